"""The offline demo: a believable owner's home built from configs/demo (package data), then the twin at work.

Steps are idempotent (re-ingesting adds nothing), so `make demo` can run again on the same home.
"""

from __future__ import annotations

import asyncio
import email
import mailbox
import uuid
from datetime import datetime
from pathlib import Path
from zoneinfo import ZoneInfo

import yaml
from pydantic import BaseModel, Field
from rich.console import Console
from rich.panel import Panel

from persona.app import App
from persona.channels.calendar import import_ics
from persona.errors import NotReady
from persona.events import Event, Principal, Provenance
from persona.profile import Audience, load_profile, save_profile

DEFAULT_DATA = Path(__file__).resolve().parents[1] / "data" / "demo"  # configs/demo, shipped with the package
# The demo's "now": its inbox and calendar are written around Monday 30 November 2026 in Berlin.
DEMO_NOW = datetime(2026, 11, 30, 7, 45, tzinfo=ZoneInfo("Europe/Berlin"))


class DemoQuestion(BaseModel):
    id: str = ""
    asker: str  # an address from the demo profile (the owner's or a person's)
    question: str
    expect_contains: list[str] = []  # at least one must appear
    must_not_contain: list[str] = []  # none may appear


def find_demo_data(explicit: Path | None) -> Path:
    data = explicit or DEFAULT_DATA
    if not (data / "persona.yaml").exists():
        raise NotReady(f"no demo data at {data}; pass --data with the repository's configs/demo folder")
    return data


def load_questions(data: Path) -> list[DemoQuestion]:
    raw = yaml.safe_load((data / "questions.yaml").read_text(encoding="utf-8"))
    items = raw["questions"] if isinstance(raw, dict) else raw
    return [DemoQuestion.model_validate(item) for item in items]


def set_up_home(app: App, data: Path, console: Console) -> None:
    from persona.cli.render import ingest_table
    from persona.memory.ingest import ingest

    save_profile(load_profile(data / "persona.yaml"), app.home.profile_path)
    app.__dict__.pop("profile", None)  # re-read the profile just written
    console.rule("[bold]1. Memory of the owner's writing")
    for audience in (Audience.TEAM, Audience.OWNER, Audience.PUBLIC):
        folder = data / "corpus" / audience.value
        console.print(
            f"ingesting [bold]{folder.relative_to(data.parent.parent)}[/] as audience [bold]{audience.value}[/]"
        )
        summary = ingest([folder], store=app.memory, profile=app.profile, audience=audience, progress=console)
        console.print(ingest_table(summary))


async def _ask_all(app: App, questions: list[DemoQuestion], console: Console) -> int:
    from persona.agent.runner import Twin

    problems = 0
    async with Twin.open(app) as twin:
        for q in questions:
            principal = Principal.resolve(app.profile, q.asker)
            who = (
                "owner"
                if principal.is_owner
                else f"{principal.name or principal.address} ({principal.role.value})"
            )
            with console.status(f"{who} asks…"):
                reply = await twin.respond(
                    Event(
                        channel="cli",
                        principal=principal,
                        text=q.question,
                        session_id=uuid.uuid4().hex,
                        provenance=Provenance.of(principal),
                    )
                )
            lowered = reply.text.lower()
            found = not q.expect_contains or any(s.lower() in lowered for s in q.expect_contains)
            leaked = [s for s in q.must_not_contain if s.lower() in lowered]
            problems += len(leaked)
            notes = []
            if reply.blocked:
                notes.append(f"[yellow]guard: {reply.blocked}[/]")
            if q.must_not_contain:
                notes.append(
                    "[red]LEAKED " + ", ".join(leaked) + "[/]"
                    if leaked
                    else "[green]owner-only facts withheld[/]"
                )
            if q.expect_contains:
                notes.append(
                    "[green]expected fact present[/]" if found else "[yellow]expected fact missing[/]"
                )
            console.print(
                Panel(
                    f"{reply.text}\n\n" + "  ".join(notes), title=f"{who}: {q.question}", title_align="left"
                )
            )
    return problems


class DemoRequest(BaseModel):
    as_: str = Field(alias="as")  # "owner" or an address from the demo profile
    say: str


def load_requests(data: Path) -> list[DemoRequest]:
    raw = yaml.safe_load((data / "requests.yaml").read_text(encoding="utf-8"))
    return [DemoRequest.model_validate(item) for item in raw["requests"]]


async def _delegate(app: App, requests: list[DemoRequest], console: Console) -> None:
    """The owner delegates and colleagues ask; each reply with what the twin did or queued under it."""
    from persona.agent.runner import Twin
    from persona.cli.render import actions_lines

    async with Twin.open(app) as twin:
        for request in requests:
            principal = Principal.resolve(app.profile, None if request.as_ == "owner" else request.as_)
            who = "owner" if principal.is_owner else f"{principal.name} ({principal.role.value})"
            with console.status(f"{who}: {request.say}"):
                reply = await twin.respond(
                    Event(
                        channel="cli",
                        principal=principal,
                        text=request.say,
                        session_id=f"demo-{request.as_}",
                        provenance=Provenance.of(principal),
                    )
                )
            below = "\n".join(actions_lines(reply.actions))
            console.print(
                Panel(
                    reply.text + (f"\n\n{below}" if below else ""),
                    title=f"{who}: {request.say}",
                    title_align="left",
                ),
                highlight=False,
            )


def deliver_demo_inbox(app: App, data: Path) -> int:
    """Put the demo's new mail into the home's Maildir inbox, once per Message-ID; returns how many."""
    box = mailbox.Maildir(app.home.mail_dir, create=True)
    present = {m["Message-ID"] for m in box}
    added = 0
    for path in sorted((data / "inbox").glob("*.eml")):
        raw = path.read_bytes()
        if email.message_from_bytes(raw)["Message-ID"] not in present:
            box.add(raw)
            added += 1
    return added


def run_inbox(app: App, data: Path, console: Console) -> None:
    from persona.agent.inbox import process_inbox
    from persona.channels.email.delivery import open_email_channel
    from persona.cli.render import approvals_table, inbox_table

    import_ics(app.calendar, data / "calendar.ics")
    console.print(f"{deliver_demo_inbox(app, data)} new mails delivered to {app.home.mail_dir}")
    channel = open_email_channel(app)
    try:
        with console.status("handling the inbox…") as status:
            report = process_inbox(app, channel, progress=lambda o: status.update(f"{o.label}: {o.subject}"))
    finally:
        channel.stop()
    console.print(inbox_table(report) if report.outcomes else "No new mail: an earlier run handled it all.")
    console.rule("[bold]4. Waiting for the owner's approval")
    waiting = app.store.approvals()
    console.print(approvals_table(waiting))
    for approval in waiting:
        if approval.action.kind.value == "send_mail":
            p = approval.action.payload
            console.print(
                Panel(
                    p.get("body", ""),
                    title=f"draft to {', '.join(approval.action.targets)}: {p.get('subject', '')}",
                    title_align="left",
                ),
                highlight=False,
            )


def run_demo(app: App, data: Path, console: Console) -> int:
    """Run every demo step; returns the number of leaks seen (0 expected)."""
    from persona.skills.brief import build_brief

    set_up_home(app, data, console)
    console.rule("[bold]2. Questions from the owner and from colleagues")
    leaks = asyncio.run(_ask_all(app, load_questions(data), console))
    console.rule(f"[bold]3. The inbox on {DEMO_NOW:%A %d %B}: triage, drafts in the owner's voice")
    run_inbox(app, data, console)
    console.rule("[bold]5. Delegating to the twin, and colleagues asking for Dana's time")
    asyncio.run(_delegate(app, load_requests(data), console))
    console.rule("[bold]6. The daily brief")
    console.print(build_brief(app, DEMO_NOW.date()).render(), highlight=False)
    return leaks
