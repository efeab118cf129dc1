"""`persona eval replies`, `persona eval all` and `persona bench`: thin shells over persona.evals.replies,
persona.evals.report and persona.bench. The lead attaches them to the `eval` group and the root CLI."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from persona.cli.context import app_from, console
from persona.errors import PersonaError


def parse_day(value: str, option: str) -> datetime:
    """A YYYY-MM-DD (or full ISO) date as an aware datetime; naive dates are taken as UTC midnight."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PersonaError(f"{option}: expected a date like 2026-10-01, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bar() -> Progress:
    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                    console=console, transient=True)


def replies_command(
    ctx: typer.Context,
    pairs: Annotated[Path | None, typer.Argument(help="JSONL of {id, incoming: {from, to, subject, body}, reply: {body}}.")] = None,
    from_home: Annotated[bool, typer.Option("--from-home", help="Build pairs from the owner's ingested replies.")] = False,
    split: Annotated[str | None, typer.Option("--split", help="With --from-home: replies on/after this date are held out; memory sees only what came before.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="Evaluate only the first N pairs.")] = None,
    out: Annotated[Path | None, typer.Option("--out", help="Folder for drafts.jsonl and report.json.")] = None,
) -> None:
    """How close the twin's drafts come to the owner's real replies, against a no-persona baseline."""
    from persona.evals.replies import baseline, held_out, load_pairs, pairs_from_home, run_replies

    if (pairs is None) == (not from_home):
        raise PersonaError("give either a PAIRS.jsonl file or --from-home --split DATE")
    if from_home and split is None:
        raise PersonaError("--from-home needs --split DATE (replies from that date on are held out)")
    app = app_from(ctx)
    skipped = 0
    if from_home:
        day = parse_day(split or "", "--split")
        chosen, skipped = pairs_from_home(app, day)
        twin, memory = held_out(app, day), f"the home's memory before {day:%Y-%m-%d}"
    else:
        chosen, twin, memory = load_pairs(pairs or Path()), app, "the home's whole memory"
    chosen = chosen[:limit] if limit else chosen
    with bar() as progress:
        task = progress.add_task("drafting twin + baseline", total=len(chosen))
        report = run_replies(twin, baseline(app), chosen, memory=memory, out=out, skipped=skipped,
                             progress=lambda done, _total, _r: progress.update(task, completed=done))
    table = Table(title=f"voice fidelity: {report.pairs} replies ({memory})")
    for column in ("metric", "twin", "baseline"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in report.rows():
        table.add_row(*row)
    console.print(table)
    console.print(f"decisions: {report.classifier}; baseline: {report.baseline_is}", highlight=False)
    if skipped:
        console.print(f"{skipped} replies skipped: their original is neither in memory nor quoted", highlight=False)
    if out is not None:
        console.print(f"wrote {out / 'drafts.jsonl'} and {out / 'report.json'}", highlight=False)


def all_command(
    ctx: typer.Context,
    out: Annotated[Path, typer.Option("--out", help="Folder for report.md, report.json, plots and each eval's files.")] = Path("eval-report"),
    triage: Annotated[Path | None, typer.Option("--triage", help="Triage eval JSON.")] = None,
    scheduling: Annotated[Path | None, typer.Option("--scheduling", help="Scheduling dataset (default: evals/scheduling/dataset.json).")] = None,
    injection: Annotated[Path | None, typer.Option("--injection", help="AgentDojo-format suite JSON.")] = None,
    probes: Annotated[Path | None, typer.Option("--probes", help="Privacy probes (default: evals/privacy/probes.yaml).")] = None,
    pairs: Annotated[Path | None, typer.Option("--pairs", help="Reply pairs JSONL for the voice-fidelity eval.")] = None,
    split: Annotated[str | None, typer.Option("--split", help="Voice fidelity on the home's own mail after this date.")] = None,
    limit: Annotated[int | None, typer.Option("--limit", help="At most N items for the reply and injection evals.")] = None,
    conversations: Annotated[Path | None, typer.Option("--conversations", help="LoCoMo-format conversations for the memory eval (default: ../shared/evals/locomo/...).")] = None,
) -> None:
    """Run every eval the project has and write one report with tables and plots."""
    from persona.evals.report import Sources, run_all

    defaults = Sources()
    sources = Sources(triage=triage, scheduling=scheduling or defaults.scheduling, injection=injection,
                      probes=probes or defaults.probes, pairs=pairs, conversations=conversations or defaults.conversations,
                      split=parse_day(split, "--split") if split else None, limit=limit)
    app = app_from(ctx)
    with bar() as progress:
        def started(name: str):
            task = progress.add_task(name, total=None)
            return lambda done, total: progress.update(task, completed=done, total=total or None)

        report = run_all(app, sources, out, started=started)
    table = Table(title="evals")
    for column in ("eval", "status", "score", "seconds", "note"):
        table.add_column(column)
    for r in report.evals:
        score = f"{r.score:.3f} {r.score_label}" if r.score is not None else "–"
        table.add_row(r.name, r.status, score, str(r.seconds), r.note)
    console.print(table)
    console.print(f"wrote {out / 'report.md'} ({len(report.plots)} plots) and {out / 'report.json'}", highlight=False)


def bench_command(
    ctx: typer.Context,
    quick: Annotated[bool, typer.Option("--quick", help="Smaller samples, retrieval up to 100k vectors: under 5 minutes.")] = False,
    json_path: Annotated[Path | None, typer.Option("--json", help="Where to write the results (default: HOME/logs/bench.json).")] = None,
) -> None:
    """Ingest, retrieval, LLM and twin-overhead speed, each against its target."""
    from persona.bench import run_bench

    settings = ctx.obj["settings"]
    with console.status("benchmarking…") as status:
        report = run_bench(settings, quick=quick, step=lambda text: status.update(text))
    table = Table(title=f"persona bench{' --quick' if quick else ''} ({report.machine}; {report.seconds:.0f} s)")
    for column in ("section", "figure", "value", "target", "meaning"):
        table.add_column(column, justify="right" if column == "value" else "left")
    for f in report.figures:
        mark = {True: " [green]✓[/]", False: " [red]✗[/]", None: ""}[f.met]
        value = "–" if f.value is None else f"{f.value:g} {f.unit}"
        table.add_row(f.section, f.name, value, f"{f.target}{mark}", f.meaning)
    console.print(table)
    for note in report.notes:
        console.print(f"note: {note}", highlight=False)
    path = json_path or ctx.obj["home"].logs_dir / "bench.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(report.model_dump_json(indent=2), encoding="utf-8")
    console.print(f"wrote {path}", highlight=False)
