"""`persona eval replies`, `persona eval all` and `persona bench`: thin shells over persona.evals.replies,
persona.evals.report and persona.bench. The lead attaches them to the `eval` group and the root CLI."""

from __future__ import annotations

import tempfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from persona.cli.context import app_from, console, require_extra
from persona.errors import PersonaError


def parse_day(value: str, option: str) -> datetime:
    """A YYYY-MM-DD (or full ISO) date as an aware datetime; naive dates are taken as UTC midnight."""
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise PersonaError(f"{option}: expected a date like 2026-10-01, got {value!r}") from None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)


def bar() -> Progress:
    return Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )


def replies_command(
    ctx: typer.Context,
    pairs: Annotated[
        Path | None, typer.Argument(help="JSONL of {id, incoming: {from, to, subject, body}, reply: {body}}.")
    ] = None,
    from_home: Annotated[
        bool, typer.Option("--from-home", help="Build pairs from the owner's ingested replies.")
    ] = False,
    mailbox: Annotated[
        Path | None,
        typer.Option(
            "--mailbox",
            help="Any person's mail folder (Maildir, mbox, .eml or RFC 822 files such as the Enron `1.`): a fresh home is built from it; needs --owner and --split.",
        ),
    ] = None,
    owner: Annotated[
        str | None, typer.Option("--owner", help="With --mailbox: the person's address(es), comma-separated.")
    ] = None,
    split: Annotated[
        str | None,
        typer.Option(
            "--split", help="Replies on/after this date are held out; memory sees only what came before."
        ),
    ] = None,
    limit: Annotated[
        int | None,
        typer.Option(
            "--limit",
            help="Evaluate only the first N pairs (and, with --mailbox, N answered + N unanswered mails for triage).",
        ),
    ] = None,
    work_home: Annotated[
        Path | None,
        typer.Option(
            "--work-home",
            help="With --mailbox: build the home here and keep it (default: a temporary folder).",
        ),
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for drafts.jsonl and report.json.")
    ] = None,
) -> None:
    """How close the twin's drafts come to the owner's real replies, against a no-persona baseline."""
    from persona.evals.replies import baseline, held_out, load_pairs, pairs_from_home

    if sum((pairs is not None, from_home, mailbox is not None)) != 1:
        raise PersonaError(
            "give either a PAIRS.jsonl file, --from-home --split DATE or --mailbox PATH --owner ADDRESS --split DATE"
        )
    if (from_home or mailbox is not None) and split is None:
        raise PersonaError(
            "--from-home and --mailbox need --split DATE (replies from that date on are held out)"
        )
    if mailbox is not None:
        if not owner:
            raise PersonaError("--mailbox needs --owner ADDRESS (the person whose replies are measured)")
        with tempfile.TemporaryDirectory(prefix="persona-mailbox-") as scratch:
            _mailbox_run(
                ctx,
                mailbox,
                [a.strip().lower() for a in owner.split(",") if a.strip()],
                parse_day(split or "", "--split"),
                limit,
                work_home or Path(scratch),
                out,
            )
        return
    app = app_from(ctx)
    skipped = 0
    if from_home:
        day = parse_day(split or "", "--split")
        chosen, skipped = pairs_from_home(app, day)
        twin, memory = held_out(app, day), f"the home's memory before {day:%Y-%m-%d}"
    else:
        chosen, twin, memory = load_pairs(pairs or Path()), app, "the home's whole memory"
    _replies_table(twin, baseline(app), chosen[:limit] if limit else chosen, memory, out, skipped)


def _replies_table(twin, base, chosen, memory: str, out: Path | None, skipped: int):
    from persona.evals.replies import run_replies

    with bar() as progress:
        task = progress.add_task("drafting twin + baseline", total=len(chosen))
        report = run_replies(
            twin,
            base,
            chosen,
            memory=memory,
            out=out,
            skipped=skipped,
            progress=lambda done, _total, _r: progress.update(task, completed=done),
        )
    table = Table(title=f"voice fidelity: {report.pairs} replies ({memory})")
    for column in ("metric", "twin", "baseline"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for row in report.rows():
        table.add_row(*row)
    console.print(table)
    console.print(f"decisions: {report.classifier}; baseline: {report.baseline_is}", highlight=False)
    if report.habits is not None:
        h = report.habits
        console.print(
            f"owner's habits: {'signs ' + ' / '.join(h.closings) if h.signs else 'mostly no sign-off'}; "
            f"{h.words_p10}-{h.words_p90} words",
            highlight=False,
        )
    if skipped:
        console.print(
            f"{skipped} replies skipped: their original is neither in memory nor quoted", highlight=False
        )
    if out is not None:
        console.print(f"wrote {out / 'drafts.jsonl'} and {out / 'report.json'}", highlight=False)
    return report


def _mailbox_run(
    ctx: typer.Context,
    mailbox: Path,
    owners: list[str],
    day: datetime,
    limit: int | None,
    root: Path,
    out: Path | None,
) -> None:
    """Build a home from the mailbox, then the reply eval and triage agreement on mail after `day`."""
    from persona.evals.mailbox import mailbox_home, run_triage_agreement, triage_cases, unanswered
    from persona.evals.replies import baseline, held_out, pairs_from_home

    try:
        with console.status(f"reading {mailbox} into a fresh home at {root}…"):
            app, summary, docs = mailbox_home(mailbox, owners, root, ctx.obj["settings"])
    except FileNotFoundError as exc:
        raise PersonaError(str(exc)) from None
    console.print(
        f"owner: {app.profile.owner.name} <{', '.join(owners)}>; {summary.documents} mails, "
        f"{summary.owner_written} written by the owner",
        highlight=False,
    )
    pairs, skipped = pairs_from_home(app, day)
    twin = held_out(app, day)
    chosen = pairs[:limit] if limit else pairs
    _replies_table(twin, baseline(app), chosen, f"{mailbox.name} before {day:%Y-%m-%d}", out, skipped)
    cases = triage_cases(chosen, unanswered(docs, owners, day), limit or len(chosen))
    with bar() as progress:
        task = progress.add_task("triage", total=len(cases))
        agreement = run_triage_agreement(
            twin, cases, progress=lambda done, _total: progress.update(task, completed=done)
        )
    (yes, answered), (no, left) = agreement.of(True), agreement.of(False)
    console.print(
        f"triage agrees with what the person did: {agreement.agreement:.0%} of {len(agreement.cases)} "
        f"(answered -> respond {yes}/{answered}; unanswered -> not respond {no}/{left})",
        highlight=False,
    )
    if out is not None:
        (out / "triage.json").write_text(agreement.model_dump_json(indent=2), encoding="utf-8")


def all_command(
    ctx: typer.Context,
    out: Annotated[
        Path, typer.Option("--out", help="Folder for report.md, report.json, plots and each eval's files.")
    ] = Path("eval-report"),
    triage: Annotated[Path | None, typer.Option("--triage", help="Triage eval JSON.")] = None,
    scheduling: Annotated[
        Path | None,
        typer.Option("--scheduling", help="Scheduling dataset (default: evals/scheduling/dataset.json)."),
    ] = None,
    injection: Annotated[
        Path | None, typer.Option("--injection", help="AgentDojo-format suite JSON.")
    ] = None,
    probes: Annotated[
        Path | None, typer.Option("--probes", help="Privacy probes (default: evals/privacy/probes.yaml).")
    ] = None,
    pairs: Annotated[
        Path | None, typer.Option("--pairs", help="Reply pairs JSONL for the voice-fidelity eval.")
    ] = None,
    split: Annotated[
        str | None, typer.Option("--split", help="Voice fidelity on the home's own mail after this date.")
    ] = None,
    limit: Annotated[
        int | None, typer.Option("--limit", help="At most N items for the reply and injection evals.")
    ] = None,
    conversations: Annotated[
        Path | None,
        typer.Option(
            "--conversations",
            help="LoCoMo-format conversations for the memory eval (default: ../shared/evals/locomo/...).",
        ),
    ] = None,
) -> None:
    """Run every eval the project has and write one report with tables and plots."""
    require_extra("evals", "matplotlib")
    from persona.evals.report import Sources, run_all

    defaults = Sources()
    sources = Sources(
        triage=triage,
        scheduling=scheduling or defaults.scheduling,
        injection=injection,
        probes=probes or defaults.probes,
        pairs=pairs,
        conversations=conversations or defaults.conversations,
        split=parse_day(split, "--split") if split else None,
        limit=limit,
    )
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
    console.print(
        f"wrote {out / 'report.md'} ({len(report.plots)} plots) and {out / 'report.json'}", highlight=False
    )


def bench_command(
    ctx: typer.Context,
    quick: Annotated[
        bool, typer.Option("--quick", help="Smaller samples, retrieval up to 100k vectors: under 5 minutes.")
    ] = False,
    json_path: Annotated[
        Path | None,
        typer.Option("--json", help="Where to write the results (default: HOME/logs/bench.json)."),
    ] = None,
) -> None:
    """Ingest, retrieval, LLM and twin-overhead speed, each against its target."""
    require_extra("bench", "aiohttp", "hnswlib")
    from persona.bench import run_bench

    settings = ctx.obj["settings"]
    with console.status("benchmarking…") as status:
        report = run_bench(settings, quick=quick, step=lambda text: status.update(text))
    table = Table(
        title=f"persona bench{' --quick' if quick else ''} ({report.machine}; {report.seconds:.0f} s)"
    )
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
