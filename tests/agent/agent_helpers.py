"""What agent tests share: a week of calendar around a fixed Monday, a scripted model, one turn at a time."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime
from zoneinfo import ZoneInfo

from persona.app import App
from persona.events import Event, Principal, Provenance
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.settings import Settings

ZONE = ZoneInfo("Europe/Berlin")
NOW = datetime(2026, 11, 30, 8, 0, tzinfo=ZONE)  # a Monday
OWNER = "dana@northwind.example"
SAM = "sam@northwind.example"
KIM = "kim@vendor.example"
ALEX = "alex@home.example"
STRANGER = "who@elsewhere.example"

CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//persona-twin tests//EN
BEGIN:VEVENT
UID:standup@test
DTSTART;TZID=Europe/Berlin:20261130T093000
DTEND;TZID=Europe/Berlin:20261130T094500
RRULE:FREQ=WEEKLY;BYDAY=MO,TU,WE,TH,FR
SUMMARY:Team stand-up
END:VEVENT
BEGIN:VEVENT
UID:one-on-one-sam@test
DTSTART;TZID=Europe/Berlin:20261201T110000
DTEND;TZID=Europe/Berlin:20261201T113000
RRULE:FREQ=WEEKLY;BYDAY=TU
SUMMARY:1:1 Dana / Sam
ATTENDEE;CN=Sam Okafor:mailto:sam@northwind.example
ORGANIZER:mailto:dana@northwind.example
END:VEVENT
BEGIN:VEVENT
UID:budget@test
DTSTART;TZID=Europe/Berlin:20261204T100000
DTEND;TZID=Europe/Berlin:20261204T104500
SUMMARY:Budget sync
ATTENDEE;CN=Sam Okafor:mailto:sam@northwind.example
ATTENDEE;CN=Kim Vendor:mailto:kim@vendor.example
ORGANIZER:mailto:dana@northwind.example
END:VEVENT
BEGIN:VEVENT
UID:dentist@test
DTSTART;TZID=Europe/Berlin:20261202T150000
DTEND;TZID=Europe/Berlin:20261202T160000
SUMMARY:Dentist
CLASS:PRIVATE
END:VEVENT
BEGIN:VEVENT
UID:review@test
DTSTART;TZID=Europe/Berlin:20261203T120000
DTEND;TZID=Europe/Berlin:20261203T173000
SUMMARY:Quarterly review workshop
END:VEVENT
END:VCALENDAR
"""

Reply = str | Callable[[list], str]


def make_app(home: Home, replies: list[Reply] | None = None) -> tuple[App, ScriptedChatModel]:
    model = ScriptedChatModel(replies=list(replies or []))
    return App(home, Settings(), llm=LLM(model, local=True), clock=lambda: NOW), model


def say(app: App, who: str | None, text: str, session: str = "s1"):
    """One turn of a conversation, as the CLI and the server run it."""
    from persona.agent.runner import Twin

    principal = Principal.resolve(app.profile, who)
    event = Event(
        channel="chat",
        principal=principal,
        text=text,
        session_id=session,
        provenance=Provenance.of(principal),
    )

    async def turn():
        async with Twin.open(app) as twin:
            return await twin.respond(event)

    return asyncio.run(turn())


def talk(app: App, who: str | None, *texts: str, session: str = "s1") -> list:
    return [say(app, who, text, session) for text in texts]


def audited(app: App, kind: str) -> list:
    """Decisions the gate made on actions of `kind`."""
    return [e for e in app.store.audit_entries(1000, kind="decision") if e.subject == kind]
