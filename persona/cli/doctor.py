"""`persona doctor`: check the home, the profile, the memory, the model and the state, and say what to fix."""

from __future__ import annotations

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
    """Counts by kind and the largest source, so junk shows; and runs that never finished, to forget."""
    from persona.memory.catalog import sources

    total = app.memory.count()
    if total == 0:
        raise PersonaError("memory is empty: run `persona ingest PATH...` with your sent mail and notes")
    found = sources(app.memory)
    kinds = ", ".join(f"{kind} {sum(s.kinds.get(kind, 0) for s in found)}"
                      for kind in ("knowledge", "exemplar", "situation"))
    largest = max(found, key=lambda s: s.items)
    detail = (f"{total} items ({kinds}) from {len(found)} sources; the largest: {largest.source or '(none)'} "
              f"({largest.items}) — `persona memory sources` lists them")
    finished = {e.subject for e in app.store.audit_entries(limit=10_000, kind="ingested")}
    held = {run for s in found for run in s.runs}
    cut = [e.subject for e in app.store.audit_entries(limit=10_000, kind="ingest_started")
           if e.subject not in finished and e.subject in held]
    if cut:
        detail += "; items from interrupted ingest runs: " + ", ".join(f"`persona forget --run {r}`" for r in cut)
    return detail


def _style(app: App) -> str:
    card = app.style_card
    if card is None:
        raise PersonaError("no style card yet: it is computed by `persona ingest` from mail you sent")
    return f"from {card.samples} of your messages"


def _llm(app: App) -> str:
    answer = app.llm.text([("user", "Reply with the single word: ready")], max_tokens=5, tag="doctor")
    where = app.settings.llm_base_url or "the packaged local model"
    return f"{where} answered {answer.strip()[:20]!r}"


def _audit(app: App) -> str:
    check = app.store.verify_audit()
    if not check.ok:
        raise PersonaError(f"audit log broken at entry {check.first_bad_seq}: {check.problem}")
    return f"{check.entries} entries, hash chain intact; {len(app.store.approvals())} approvals pending"


CHECKS: list[tuple[str, Callable[[App], str]]] = [
    ("profile", _profile),
    ("state & audit", _audit),
    ("memory", _memory),
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
        except PersonaError as exc:
            failed += 1
            table.add_row(name, "[red]fail[/]", str(exc))
            if name == "profile":
                break  # every later check needs the profile
    console.print(table)
    if failed:
        raise typer.Exit(1)
