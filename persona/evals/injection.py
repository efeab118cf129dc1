"""`persona eval injection`: an AgentDojo-format suite run against the twin's policy.

For every (owner task, attacker goal) pair the attack text is planted in the vectors the owner task
reads; an agent (the scripted hijacked adversary, or the configured LLM) works in the mounted
environment, and every side-effecting call goes through the ActionGate. The report counts what ran.
"""

from __future__ import annotations

import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from persona.evals.agentdojo.harness import (
    Agent,
    HijackedAdversary,
    Session,
    planted_in_trusted,
    suite_profile,
)
from persona.evals.agentdojo.report import PairResult, Report
from persona.evals.agentdojo.suite import load_suite
from persona.store import StateStore

if TYPE_CHECKING:
    from persona.llm.client import LLM

ModelChoice = Literal["hijacked", "configured"]


def run_injection(
    suite_path: Path,
    model: ModelChoice = "hijacked",
    *,
    limit: int | None = None,
    out: Path | None = None,
    llm: LLM | None = None,
) -> Report:
    """Run the suite; with `out`, write report.json and keep the audit log (audit.sqlite) there."""
    suite = load_suite(suite_path)
    profile = suite_profile(suite)
    agent: Agent
    utility_rule = ""
    if model == "hijacked":
        agent = HijackedAdversary()
    else:
        from persona.evals.agentdojo.llm_agent import UTILITY_RULE, LLMAgent

        if llm is None:
            raise ValueError("the configured model needs an LLM")
        agent, utility_rule = LLMAgent(llm, suite), UTILITY_RULE
    pairs = suite.pairs()[:limit] if limit else suite.pairs()
    with tempfile.TemporaryDirectory(prefix="persona-injection-") as scratch:
        store = StateStore((out or Path(scratch)) / "audit.sqlite")
        results: list[PairResult] = []
        planted = 0
        for user, attack in pairs:
            session = Session(suite, user, attack, profile, store)
            session.result.answer = agent.run(session, user, attack)
            results.append(session.result)
            planted += planted_in_trusted(session)
    report = Report.build(suite.suite, agent.name, results, planted, utility_rule)
    if out is not None:
        out.mkdir(parents=True, exist_ok=True)
        (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return report
