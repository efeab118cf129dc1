"""`persona jobs`, `persona brief`, `persona usage`: the always-on side, seen from the command line."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Annotated

import typer
from rich.markdown import Markdown
from rich.table import Table

from persona.cli.context import AsJson, app_from, console, parse_date, print_json


def jobs(ctx: typer.Context, as_json: AsJson = False) -> None:
    """The scheduled jobs and their next run times (owner's time zone)."""
    from persona.scheduler.service import job_states

    app = app_from(ctx)
    states = asyncio.run(job_states(app))
    if as_json:
        print_json(states)
        return
    zone = app.profile.zone
    table = Table("job", "what", "next run", "state")
    for job in states:
        when = f"{job.next_run.astimezone(zone):%a %d %b %H:%M %Z}" if job.next_run else "paused"
        table.add_row(job.id, job.what, when, "scheduled" if job.scheduled else "starts with `persona serve`")
    console.print(table)


def brief(
    ctx: typer.Context,
    day: Annotated[
        str | None, typer.Option("--date", help="Day of the brief, YYYY-MM-DD (default: today).")
    ] = None,
    send: Annotated[
        bool, typer.Option("--send", help="Also deliver it: dashboard and a mail to you.")
    ] = False,
) -> None:
    """Today's brief: meetings, mail that needs you, approvals, open follow-ups, what the twin did."""
    from persona.skills.brief import build_brief, deliver_brief

    app = app_from(ctx)
    with console.status("gathering…"):
        result = build_brief(app, parse_date(day) if day else None)
    console.print(Markdown(result.render()))
    if send:
        console.print(deliver_brief(app, result, by_mail=True))


def usage(
    ctx: typer.Context,
    days: Annotated[int, typer.Option("--days", help="How many days back.")] = 7,
    as_json: AsJson = False,
) -> None:
    """LLM calls and tokens per job and tag, per day."""
    from persona.llm.usage import UsageLedger

    app = app_from(ctx)
    since = app.clock().astimezone(app.profile.zone).date() - timedelta(days=days - 1)
    rows = UsageLedger.of(app).rows(since)
    if as_json:
        print_json(rows)
        return
    if not rows:
        console.print(f"No LLM calls since {since}.")
        return
    table = Table("day", "job", "tag", "calls", "prompt tokens", "completion tokens")
    for r in rows:
        table.add_row(r.day, r.job, r.tag, str(r.calls), str(r.prompt_tokens), str(r.completion_tokens))
    table.add_row(
        "total",
        "",
        "",
        *(str(sum(getattr(r, f) for r in rows)) for f in ("calls", "prompt_tokens", "completion_tokens")),
    )
    console.print(table)


def register(cli: typer.Typer) -> None:
    cli.command("jobs")(jobs)
    cli.command("brief")(brief)
    cli.command("usage")(usage)
