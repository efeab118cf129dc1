"""`persona calendar`: import, agenda, and free slots for a request in plain words."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from persona.app import App
from persona.cli.context import app_from, console, parse_date, print_json
from persona.errors import PersonaError

calendar_cli = typer.Typer(
    help="The owner's calendar (ICS in the home, or CalDAV when PERSONA_CALDAV_URL is set).",
    no_args_is_help=True,
)


@calendar_cli.command("import")
def import_(ctx: typer.Context, path: Annotated[Path, typer.Argument(help="An .ics file.")]) -> None:
    """Load an existing calendar file (events, recurrences, exceptions); importing again updates."""
    from persona.channels.calendar import import_ics

    if not path.is_file():
        raise PersonaError(f"{path}: no such file")
    summary = import_ics(app_from(ctx).calendar, path)
    console.print(
        f"{path.name}: {summary.created} created, {summary.updated} updated, "
        f"{summary.recurring} recurring, {len(summary.skipped)} skipped"
    )
    for why in summary.skipped:
        console.print(f"  skipped: {why}", highlight=False)


def _day(value: str | None, app: App) -> date:
    return parse_date(value) if value is not None else app.clock().astimezone(app.profile.zone).date()


@calendar_cli.command("agenda")
def agenda(
    ctx: typer.Context,
    day: Annotated[str | None, typer.Option("--date", help="First day (YYYY-MM-DD); default today.")] = None,
    days: Annotated[int, typer.Option("--days", min=1, max=62, help="How many days.")] = 1,
    as_address: Annotated[
        str | None, typer.Option("--as", help="Show what this person may see of it.")
    ] = None,
    as_json: Annotated[bool, typer.Option("--json", help="Print the events as JSON.")] = False,
) -> None:
    """The owner's events, as the owner (or, with --as, a colleague) sees them."""
    from persona.channels.calendar import redact_for
    from persona.events import Principal

    app = app_from(ctx)
    zone = app.profile.zone
    first = _day(day, app)
    start = datetime.combine(first, time(0), zone)
    events = app.calendar.events(start, start + timedelta(days=days))
    events = redact_for(Principal.resolve(app.profile, as_address), events)
    if as_json:
        print_json(sorted(events, key=lambda e: e.start))
        return
    table = Table("when", "what", "where / with")
    for e in sorted(events, key=lambda e: e.start):
        when = f"{e.start.astimezone(zone):%a %d %b}" + (
            "  all day" if e.all_day else f"  {e.start.astimezone(zone):%H:%M}–{e.end.astimezone(zone):%H:%M}"
        )
        others = ", ".join(a.name or a.email for a in e.attendees)
        table.add_row(when, e.summary, " · ".join(filter(None, [e.location, others])))
    console.print(table if events else "No events.")


@calendar_cli.command("find")
def find(
    ctx: typer.Context,
    request: Annotated[str, typer.Argument(help="e.g. 'next Tuesday or Thursday afternoon, 45 minutes'")],
    sent: Annotated[
        str | None, typer.Option("--date", help="Read the request as if sent on this day.")
    ] = None,
    llm: Annotated[
        bool, typer.Option("--llm/--no-llm", help="Let the LLM read what the rules cannot.")
    ] = True,
) -> None:
    """Free slots for a meeting request in plain words (the solver is exact; no LLM arithmetic)."""
    from persona.skills.propose_meeting import propose_meeting

    app = app_from(ctx)
    sent_at = datetime.combine(_day(sent, app), time(9), app.profile.zone) if sent else app.clock()
    proposal = propose_meeting(app, request, sent_at, use_llm=llm, limit=5)
    c = proposal.constraints
    if c.needs_clarification:
        console.print(f"Needs a clarification first: [bold]{c.question}[/]")
        return
    zone = app.profile.zone
    console.print(
        f"{c.duration_minutes} minutes{' (default)' if c.duration_defaulted else ''} within "
        + ", ".join(f"{w.day:%a %d %b} {w.start:%H:%M}–{(w.end or time(23, 59)):%H:%M}" for w in c.windows)
    )
    if not proposal.slots:
        console.print("No free slot fits.")
    for slot in proposal.slots:
        console.print(f"  {slot.start.astimezone(zone):%a %d %b %H:%M}–{slot.end.astimezone(zone):%H:%M}")


def register(cli: typer.Typer) -> None:
    cli.add_typer(calendar_cli, name="calendar")
