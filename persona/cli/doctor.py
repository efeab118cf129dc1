"""`persona doctor`: check the home, the profile, the memory, the model and the state, and say what to fix."""

from __future__ import annotations

import asyncio
from collections.abc import Callable

import typer
from rich.table import Table

from persona.app import App
from persona.cli.context import app_from, console
from persona.errors import PersonaError


def _profile(app: App) -> str:
    p = app.profile
    return f"{p.owner.name} <{', '.join(p.owner.emails)}>, {len(p.people)} people, {len(p.boundaries)} boundaries"


def _memory(app: App) -> str:
    """Counts by kind and the largest source; then what looks wrong (junk, runs that did not finish),
    each with the `persona forget` that removes it."""
    from persona.memory.catalog import sources
    from persona.memory.health import oddities

    total = app.memory.count()
    if total == 0:
        raise PersonaError("memory is empty: run `persona ingest PATH...` with your sent mail and notes")
    found = sources(app.memory)
    kinds = ", ".join(
        f"{kind} {sum(s.kinds.get(kind, 0) for s in found)}"
        for kind in ("knowledge", "exemplar", "situation")
    )
    largest = max(found, key=lambda s: s.items)
    detail = (
        f"{total} items ({kinds}) from {len(found)} sources; the largest: {largest.source or '(none)'} "
        f"({largest.items}) — `persona memory sources` lists them"
    )
    if odd := oddities(app.memory, app.store).lines():
        raise Notice("\n".join([detail, *odd]))
    return detail


def _schedule(app: App) -> str:
    """The jobs persona.yaml asks for against those the job store holds. A running `persona serve` takes
    up an edited persona, memory and calendar at once, but keeps the schedule it started with."""
    from sqlalchemy.exc import SQLAlchemyError

    from persona.scheduler.service import job_specs, stored_jobs

    try:
        stored = asyncio.run(stored_jobs(app))
    except SQLAlchemyError as exc:
        raise PersonaError(
            f"the job store could not be read ({type(exc).__name__}); check PERSONA_JOBS_DB_URL"
        ) from None
    if not stored:
        return "no `persona serve` has run on this home yet"
    changed = [
        spec.name
        for spec in job_specs(app.profile)
        if (job := stored.get(spec.id)) is None or job.name != spec.name
    ]
    if changed:
        raise Notice(
            f"persona.yaml now asks for: {'; '.join(changed)}. A running `persona serve` keeps the "
            "schedule it started with; it takes this up when it next starts"
        )
    return f"{len(stored)} jobs, as persona.yaml says"


def _style(app: App) -> str:
    card = app.style_card
    if card is None:
        raise PersonaError("no style card yet: it is computed by `persona ingest` from mail you sent")
    return f"from {card.samples} of your messages"


def _llm(app: App) -> str:
    answer = app.llm.text([("user", "Reply with the single word: ready")], max_tokens=5, tag="doctor")
    where = app.settings.llm.base_url or "the packaged local model"
    return f"{where} answered {answer.strip()[:20]!r}"


def _audit(app: App) -> str:
    check = app.store.verify_audit()
    if not check.ok:
        raise PersonaError(f"audit log broken at entry {check.first_bad_seq}: {check.problem}")
    return f"{check.entries} entries, hash chain intact; {len(app.store.approvals())} approvals pending"


class Notice(Exception):
    """The check passed, but something needs the owner's look: shown as `check`, not counted as a failure."""


CHECKS: list[tuple[str, Callable[[App], str]]] = [
    ("profile", _profile),
    ("state & audit", _audit),
    ("memory", _memory),
    ("schedule", _schedule),
    ("style card", _style),
    ("LLM", _llm),
]


def doctor(ctx: typer.Context) -> None:
    """Check configuration, memory, model and state; print what is wrong and how to fix it."""
    app = app_from(ctx)
    table = Table("check", "", "detail")
    failed = 0
    console.print(f"home: {app.home.root}")
    for name, check in CHECKS:
        try:
            with console.status(f"checking {name}…"):
                table.add_row(name, "[green]ok[/]", check(app))
        except Notice as exc:
            table.add_row(name, "[yellow]check[/]", str(exc))
        except PersonaError as exc:
            failed += 1
            table.add_row(name, "[red]fail[/]", str(exc))
            if name == "profile":
                break  # every later check needs the profile
    console.print(table)
    if failed:
        raise typer.Exit(1)
