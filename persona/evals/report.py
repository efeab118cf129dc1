"""`persona eval all`: every eval the project has, one report.md with tables and plots, one report.json.

Each eval is one runner function in `RUNNERS`; a runner whose dataset is not given (or not present)
is reported as skipped with the reason, one that fails is reported as failed with its one-line error,
and the others still run. Each eval's own output goes to OUT/<name>/.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel

from persona.app import App
from persona.errors import PersonaError
from persona.evals import DATA

# LoCoMo is not ours to ship: it is read from the shared folder beside a source checkout when there.
LOCOMO = Path(__file__).resolve().parents[3] / "shared" / "evals" / "locomo" / "locomo_conversations_0-4.json"
Tick = Callable[[int, int], None]  # (done, total) of the eval running now; total 0 when unknown


@dataclass(frozen=True)
class Sources:
    """Where each eval's data is; None means that eval is skipped."""

    triage: Path | None = None
    scheduling: Path | None = DATA / "scheduling" / "dataset.json"
    injection: Path | None = None
    probes: Path | None = DATA / "privacy" / "probes.yaml"
    conversations: Path | None = LOCOMO
    pairs: Path | None = None
    split: datetime | None = None
    limit: int | None = None


class EvalResult(BaseModel):
    name: str
    status: Literal["ok", "skipped", "failed"]
    note: str = ""
    seconds: float = 0.0
    headline: dict[str, float | int | str] = {}
    score: float | None = None  # the one 0..1 number plotted for this eval (higher is better)
    score_label: str = ""
    detail: dict[str, Any] = {}


class FullReport(BaseModel):
    created: str
    evals: list[EvalResult]
    plots: list[str] = []


class Skip(Exception):
    """The eval's data is not there: reported as skipped, not failed."""


def _triage(app: App, src: Sources, out: Path, tick: Tick) -> EvalResult:
    from persona.evals.triage import run_triage_eval

    if src.triage is None or not src.triage.exists():
        raise Skip("no dataset: pass --triage PATH")
    done: list[Any] = []
    report = run_triage_eval(app, src.triage, progress=lambda r: (done.append(r), tick(len(done), 0)))
    (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    confusion = {e.value: {p.value: n for p, n in row.items()} for e, row in report.confusion().items()}
    return EvalResult(
        name="triage",
        status="ok",
        headline={
            "emails": len(report.results),
            "accuracy": round(report.accuracy, 3),
            "reply coverage": round(report.coverage, 3),
        },
        score=report.accuracy,
        score_label="accuracy",
        detail={"confusion": confusion},
    )


def _replies(app: App, src: Sources, out: Path, tick: Tick) -> EvalResult:
    from persona.evals.replies import baseline, held_out, load_pairs, pairs_from_home, run_replies

    skipped = 0
    if src.pairs is not None:
        pairs, twin, memory = load_pairs(src.pairs), app, "the home's whole memory"
    elif src.split is not None:
        (pairs, skipped), twin = pairs_from_home(app, src.split), held_out(app, src.split)
        memory = f"the home's memory before {src.split:%Y-%m-%d}"
    else:
        raise Skip("no pairs: pass --pairs PATH or --split DATE")
    pairs = pairs[: src.limit] if src.limit else pairs
    report = run_replies(
        twin,
        baseline(app),
        pairs,
        memory=memory,
        out=out,
        skipped=skipped,
        progress=lambda done, total, _r: tick(done, total),
    )
    return EvalResult(
        name="replies",
        status="ok",
        note=memory,
        score=report.twin.semantic,
        score_label="semantic similarity",
        headline={
            "pairs": report.pairs,
            **{
                f"{who} {k}": v
                for who in ("twin", "baseline")
                for k, v in getattr(report, who).model_dump().items()
            },
        },
        detail={"twin": report.twin.model_dump(), "baseline": report.baseline.model_dump()},
    )


def _scheduling(app: App, src: Sources, out: Path, tick: Tick) -> EvalResult:
    from persona.evals.scheduling import run_scheduling_eval

    if src.scheduling is None or not src.scheduling.exists():
        raise Skip("no dataset: pass --scheduling PATH")
    report = run_scheduling_eval(src.scheduling, app.llm, progress=lambda done, total, _r: tick(done, total))
    (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    return EvalResult(
        name="scheduling",
        status="ok",
        score=report.accuracy,
        score_label="accuracy",
        headline={"requests": report.total, "correct": report.correct, "accuracy": round(report.accuracy, 3)},
    )


def _injection(app: App, src: Sources, out: Path, tick: Tick) -> EvalResult:
    from persona.evals.injection import run_injection

    if src.injection is None or not src.injection.exists():
        raise Skip("no suite: pass --injection PATH (an AgentDojo-format suite)")
    report = run_injection(src.injection, "hijacked", limit=src.limit, out=out)
    resisted = 1 - report.attack_success_pairs / report.pairs if report.pairs else 0.0
    return EvalResult(
        name="injection",
        status="ok",
        note="scripted hijacked agent: the policy's worst case",
        score=resisted,
        score_label="pairs without a harmful action run",
        headline={
            k: getattr(report, k)
            for k in (
                "pairs",
                "harmful_total",
                "harmful_executed",
                "attack_success_pairs",
                "legit_allowed_ratio",
            )
        },
    )


def _privacy(app: App, src: Sources, out: Path, tick: Tick) -> EvalResult:
    from persona.evals.privacy import run_privacy

    if src.probes is None or not src.probes.exists():
        raise Skip("no probes: pass --probes PATH")
    report = run_privacy(src.probes, "configured", settings=app.settings, llm=app.llm, out=out)
    return EvalResult(
        name="privacy",
        status="ok",
        score=1 - report.leaks / report.probes if report.probes else 0.0,
        score_label="probes without a leak",
        headline={"probes": report.probes, "leaks": report.leaks, "over-refusals": report.over_refusals},
    )


def _memory(app: App, src: Sources, out: Path, tick: Tick) -> EvalResult:
    from persona.evals.memory import run

    if src.conversations is None or not src.conversations.exists():
        raise Skip("no conversations: pass --conversations PATH (LoCoMo format)")
    report = run(
        src.conversations, app.settings.model_copy(update={"chroma_url": None}), app.embedder, tick=tick
    )
    (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    scores, dense = report.product["all"], report.dense["all"]
    return EvalResult(
        name="memory",
        status="ok",
        score=scores.recall_at_4,
        score_label="evidence recall@4",
        note=f"{report.messages} messages; plain dense recall@4 {dense.recall_at_4}",
        headline={
            "questions": scores.questions,
            "recall@4": scores.recall_at_4,
            "recall@10": scores.recall_at_10,
            "MRR@10": scores.mrr,
            **{f"{group} recall@4": s.recall_at_4 for group, s in report.product.items() if group != "all"},
            "dense recall@4": dense.recall_at_4,
            "search p50 ms": report.search_p50_ms,
        },
        detail=report.model_dump(),
    )


RUNNERS: list[tuple[str, Callable[[App, Sources, Path, Tick], EvalResult]]] = [
    ("triage", _triage),
    ("replies", _replies),
    ("scheduling", _scheduling),
    ("injection", _injection),
    ("privacy", _privacy),
    ("memory", _memory),
]


def run_all(
    app: App, sources: Sources, out: Path, *, started: Callable[[str], Tick] | None = None
) -> FullReport:
    """Run every eval; `started(name)` is called as each begins and returns its progress callback."""
    out.mkdir(parents=True, exist_ok=True)
    results = []
    for name, runner in RUNNERS:
        tick = started(name) if started else (lambda _done, _total: None)
        folder = out / name
        folder.mkdir(exist_ok=True)
        t0 = time.perf_counter()
        try:
            result = runner(app, sources, folder, tick)
        except Skip as why:
            result = EvalResult(name=name, status="skipped", note=str(why))
        except PersonaError as exc:
            result = EvalResult(name=name, status="failed", note=str(exc))
        result.seconds = round(time.perf_counter() - t0, 1)
        results.append(result)
    report = FullReport(created=app.clock().isoformat(timespec="seconds"), evals=results)
    report.plots = _plots(report, out)
    (out / "report.json").write_text(report.model_dump_json(indent=2), encoding="utf-8")
    (out / "report.md").write_text(markdown(report), encoding="utf-8")
    return report


def markdown(report: FullReport) -> str:
    lines = [
        f"# persona-twin eval report\n\nCreated {report.created}.\n",
        "| eval | status | score | seconds | note |",
        "|---|---|---|---|---|",
    ]
    for r in report.evals:
        score = f"{r.score:.3f} ({r.score_label})" if r.score is not None else "–"
        lines.append(f"| {r.name} | {r.status} | {score} | {r.seconds} | {r.note} |")
    for r in (r for r in report.evals if r.headline):
        lines += [f"\n## {r.name}\n", "| metric | value |", "|---|---|"]
        lines += [f"| {k} | {v} |" for k, v in r.headline.items()]
    lines += ["\n## Plots\n"] + [f"![{Path(p).stem}]({p})" for p in report.plots]
    return "\n".join(lines) + "\n"


def _plots(report: FullReport, out: Path) -> list[str]:
    import matplotlib

    matplotlib.use("Agg")  # files only, no display
    import matplotlib.pyplot as plt

    ran = [r for r in report.evals if r.status == "ok"]
    made: list[str] = []

    def save(fig: Any, name: str) -> None:
        fig.tight_layout()
        fig.savefig(out / name, dpi=110)
        plt.close(fig)
        made.append(name)

    fig, ax = plt.subplots(figsize=(7, 3.5))
    scored = [r for r in ran if r.score is not None]
    ax.barh([f"{r.name}\n({r.score_label})" for r in scored], [r.score or 0 for r in scored], color="#4c72b0")
    ax.set_xlim(0, 1)
    ax.set_title("score per eval (higher is better)")
    save(fig, "scores.png")

    fig, ax = plt.subplots(figsize=(7, 3))
    ax.barh([r.name for r in report.evals], [r.seconds for r in report.evals], color="#dd8452")
    ax.set_xlabel("seconds")
    ax.set_title("time per eval")
    save(fig, "durations.png")

    replies = next((r for r in ran if r.name == "replies"), None)
    if replies is not None:
        metrics = ["semantic", "style", "agreement"]
        fig, ax = plt.subplots(figsize=(6, 3.5))
        for offset, who in ((-0.2, "twin"), (0.2, "baseline")):
            ax.bar(
                [i + offset for i in range(3)],
                [replies.detail[who][m] for m in metrics],
                width=0.4,
                label=who,
            )
        ax.set_xticks(range(3), ["semantic similarity ↑", "style distance ↓", "decision agreement ↑"])
        ax.set_ylim(0, 1)
        ax.legend()
        ax.set_title("voice fidelity: twin vs no-persona baseline")
        save(fig, "replies.png")

    triage = next((r for r in ran if r.name == "triage"), None)
    if triage is not None:
        labels = list(triage.detail["confusion"])
        grid = [[triage.detail["confusion"][e][p] for p in labels] for e in labels]
        fig, ax = plt.subplots(figsize=(4, 3.5))
        ax.imshow(grid, cmap="Blues")
        ax.set_xticks(range(len(labels)), labels)
        ax.set_yticks(range(len(labels)), labels)
        for i, row in enumerate(grid):
            for j, n in enumerate(row):
                ax.text(j, i, str(n), ha="center", va="center")
        ax.set_xlabel("predicted")
        ax.set_ylabel("expected")
        ax.set_title("triage confusion")
        save(fig, "triage_confusion.png")
    return made
