"""`persona forget` and `persona memory sources`: see what memory holds, and take some of it back."""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer

from persona.cli.context import AsJson, Wide, app_from, console, print_json
from persona.cli.render import Column, fitted_table
from persona.errors import PersonaError

if TYPE_CHECKING:
    from persona.memory.forget import Selection
    from persona.memory.store import MemoryStore

memory_cli = typer.Typer(help="What the twin's memory holds.", no_args_is_help=True)


def forget(
    ctx: typer.Context,
    item: Annotated[str | None, typer.Argument(help="An item's id (from `GET /api/memory/search`).")] = None,
    source: Annotated[
        str | None,
        typer.Option("--source", help="A file, folder or label as `persona memory sources` lists it."),
    ] = None,
    run: Annotated[
        str | None, typer.Option("--run", help="An ingest run's id, as `persona ingest` printed it.")
    ] = None,
    before: Annotated[
        datetime | None,
        typer.Option(
            "--before",
            formats=["%Y-%m-%d"],
            help="Items dated before this day (YYYY-MM-DD); with --since, a span.",
        ),
    ] = None,
    since: Annotated[
        datetime | None,
        typer.Option("--since", formats=["%Y-%m-%d"], help="Items dated on or after this day (YYYY-MM-DD)."),
    ] = None,
    yes: Annotated[bool, typer.Option("--yes", "-y", help="Do not ask before removing.")] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what was removed as JSON (needs --yes).")
    ] = False,
) -> None:
    """Remove items from memory: one item, everything from a source, everything one ingest added, or
    everything dated before or since a day (by the document's date; items without one stay)."""
    from persona.memory import forget as forgetting

    dated = before is not None or since is not None
    chosen = [
        name
        for name, value in (("ITEM", item), ("--source", source), ("--run", run), ("--before/--since", dated))
        if value
    ]
    if len(chosen) != 1:
        raise typer.BadParameter("give exactly one of ITEM, --source, --run or --before/--since")
    if before is not None and since is not None and since >= before:
        raise typer.BadParameter("--since must be a day before --before", param_hint="--since")
    if as_json and not yes:
        raise typer.BadParameter("--json prints without asking: add --yes", param_hint="--json")
    app = app_from(ctx)
    if item:
        selection = forgetting.select_item(app.memory, item)
    elif source:
        selection = _by_source(app.memory, source)
    elif run:
        selection = forgetting.select_run(app.memory, run)
    else:
        selection = forgetting.select_dated(
            app.memory, before=before.date() if before else None, since=since.date() if since else None
        )
    if not selection.ids:
        raise PersonaError(
            f"nothing to forget ({selection.what}); `persona memory sources` lists what memory holds"
        )
    if not yes and not typer.confirm(f"Forget {len(selection.ids)} items ({selection.what})?"):
        raise typer.Abort()
    removed = forgetting.forget(app.memory, app.store, selection)
    if as_json:
        print_json({"what": selection.what, "removed": removed})
    else:
        console.print(f"Forgot {removed} items ({selection.what}).", highlight=False)


def _by_source(memory: MemoryStore, source: str) -> Selection:
    """As the owner typed it, or else as the absolute path it names: ingest keeps paths as it was given."""
    from persona.memory.forget import select_source

    selection = select_source(memory, source)
    absolute = str(Path(source).expanduser().absolute())
    return selection if selection.ids or absolute == source else select_source(memory, absolute)


@memory_cli.command("sources")
def memory_sources(ctx: typer.Context, as_json: AsJson = False, wide: Wide = False) -> None:
    """Every source in memory with its items, dates and ingest runs (what `persona forget --source` takes)."""
    from persona.memory.catalog import sources

    found = sources(app_from(ctx).memory)
    if as_json:
        print_json(found)
        return
    if not found:
        console.print("Memory is empty.")
        return
    columns = [
        Column("source"),
        Column("items", whole=True),
        Column("kinds", wide_only=True),
        Column("dates", whole=True),
        Column("runs", wide_only=True),
    ]
    rows = (
        [
            s.source or "(none)",
            str(s.items),
            ", ".join(f"{k} {n}" for k, n in sorted(s.kinds.items())),
            _span(s.first_date, s.last_date),
            "\n".join(s.runs),
        ]
        for s in found
    )
    console.print(fitted_table(columns, rows, wide))


def _span(first: str | None, last: str | None) -> str:
    if first is None or last is None:
        return ""
    return first[:10] if first[:10] == last[:10] else f"{first[:10]} – {last[:10]}"


def register(cli: typer.Typer) -> None:
    cli.command()(forget)
    cli.add_typer(memory_cli, name="memory")
