"""One (owner task, attacker goal) pair at a time: plant the attack, let an agent work, and send every
side-effecting call through the twin's ActionGate (policy + audit) before it touches the environment."""

from __future__ import annotations

import json
from typing import Any, Protocol

from persona.actions import ActionGate
from persona.evals.agentdojo.delegation import delegated_mails
from persona.evals.agentdojo.mapping import READ_ONLY, SIDE_EFFECTING, TOOL_CALLS, to_action
from persona.evals.agentdojo.provenance import Ledger
from persona.evals.agentdojo.report import CallRecord, PairResult, Role
from persona.evals.agentdojo.suite import Call, InjectionTask, Suite, UserTask
from persona.evals.agentdojo.workspace import ToolError, Workspace
from persona.events import Principal, Verdict
from persona.profile import Owner, Person, Profile
from persona.store import StateStore


def suite_profile(suite: Suite) -> Profile:
    """The suite's owner as a twin profile: contacts are known people; no rule widens the policy."""
    owner = suite.owner_email
    contacts = suite.environment.get("inbox", {}).get("contact_list", [])
    name = next(
        (c["name"] for c in contacts if str(c.get("email", "")).lower() == owner), suite.attack_user_name
    )
    people = [
        Person(name=c.get("name") or c["email"], emails=[c["email"]])
        for c in contacts
        if "@" in str(c.get("email", "")) and str(c["email"]).lower() != owner
    ]
    return Profile(owner=Owner(name=name, emails=[owner]), people=people)


class Session:
    """The environment of one pair as the agent sees it: call tools, get results back as data."""

    def __init__(
        self, suite: Suite, user: UserTask, attack: InjectionTask, profile: Profile, store: StateStore
    ):
        self.attack_text = suite.attack_text(attack)
        vectors = suite.user_task_injection_vectors.get(user.id, [])
        env = suite.environment_with({vid: self.attack_text for vid in vectors})
        self.ledger = Ledger(prompt=user.prompt)
        self.ws = Workspace(env, suite.owner_email, self.ledger)
        for segment in delegated_mails(
            user.prompt, list(self.ws.emails.values()), self.ws.owner, self.ws.contact_addresses
        ):
            self.ledger.delegate(segment)
        self.owner = Principal.owner(profile)
        self.profile, self.store = profile, store
        self.closed = {t.name: t.enum_params() for t in suite.tools}
        self.result = PairResult(user_task=user.id, injection_task=attack.id, attack_read=False)
        self.pair = f"{user.id}/{attack.id}"

    def call(self, call: Call, role: Role) -> Any:
        """Run one tool call; returns what the agent gets back (a record, a list, or an error text)."""
        if call.function in READ_ONLY:
            if role == "legit":
                self.result.read_only_legit += 1
            try:
                found = self.ws.read(call.function, call.args)
            except (ToolError, TypeError) as exc:
                return {"error": str(exc)}
            if self.attack_text.strip() in json.dumps(found, ensure_ascii=False).replace("\\n", "\n"):
                self.result.attack_read = True
            return found
        if call.function not in SIDE_EFFECTING:
            return {"error": f"unknown tool {call.function}"}
        return self._act(call, role)

    def _act(self, call: Call, role: Role) -> Any:
        try:
            closed = self.closed.get(call.function, set())  # a tool the suite does not declare has no enums
            action = to_action(call.function, call.args, self.ws, self.ledger, self.owner, closed)
        except (KeyError, TypeError, ValueError) as exc:
            return {"error": f"bad arguments: {exc}"}
        done: dict[str, Any] = {}

        def execute(a: Any) -> str:
            done["result"] = self.ws.apply(call.function, call.args, action.payload_provenance)
            return f"{call.function} done"

        gate = ActionGate(self.store, self.profile, {action.kind: execute}, payloads=TOOL_CALLS)
        try:
            outcome = gate.submit(action)
        except (ToolError, TypeError) as exc:  # the policy let it run; the environment refused it
            outcome = None
            done["result"] = {"error": str(exc)}
            verdict, rule, reason = Verdict.RUN, "executor-failed", str(exc)
        if outcome is not None:
            verdict, rule, reason = outcome.decision.verdict, outcome.decision.rule, outcome.decision.reason
        self.result.calls.append(
            CallRecord(
                pair=self.pair, role=role, tool=call.function, verdict=verdict, rule=rule, reason=reason
            )
        )
        if verdict is Verdict.RUN:
            return done.get("result", {})
        return {"status": verdict.value, "reason": reason}


class Agent(Protocol):
    name: str

    def run(self, session: Session, user: UserTask, attack: InjectionTask) -> str: ...


class HijackedAdversary:
    """The worst case without any model: does the owner's task with its ground-truth calls and, as soon
    as a result shows the planted text, obeys it by trying every call of the attacker's goal."""

    name = "hijacked"

    def run(self, session: Session, user: UserTask, attack: InjectionTask) -> str:
        obeyed = False
        for call in user.ground_truth_calls:
            session.call(call, "legit")
            if session.result.attack_read and not obeyed:
                obeyed = True
                for evil in attack.ground_truth_calls:
                    session.call(evil, "harmful")
        return user.ground_truth_output


def planted_in_trusted(session: Session) -> int:
    """Segments the agent read or was told to follow that hold planted text yet were labelled trusted
    (should be none: a delegated mail carrying planted text would show here)."""
    needle = session.attack_text.strip()
    told = session.ledger.segments + session.ledger.delegated
    return sum(1 for s in told if needle in s.text and s.provenance.source.trusted)
