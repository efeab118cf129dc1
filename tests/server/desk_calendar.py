"""A week in the owner's calendar for the desk's tests: imported events (a weekly series, an all-day day), a
tentative hold, and a meeting the twin proposed that waits for the owner's approval."""

from __future__ import annotations

from datetime import date, datetime
from pathlib import Path
from zoneinfo import ZoneInfo

from server_helpers import held_for_owner

from persona.app import App
from persona.channels.calendar import import_ics
from persona.channels.calendar.delivery import tentative_event_payload
from persona.channels.calendar.models import Attendee, CalEvent, Status
from persona.events import ActionKind

BERLIN = ZoneInfo("Europe/Berlin")
MONDAY = date(2026, 12, 7)
NOW = datetime(2026, 12, 9, 10, 0, tzinfo=BERLIN)  # the Wednesday of that week

EXPORT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//Export//EN
BEGIN:VEVENT
UID:standup@northwind.example
DTSTAMP:20261101T000000Z
DTSTART:20261130T083000Z
DTEND:20261130T084500Z
RRULE:FREQ=WEEKLY;BYDAY=MO,WE,FR;COUNT=30
SUMMARY:Team standup
LOCATION:Room 4.12
ATTENDEE:mailto:sam@northwind.example
ATTENDEE:mailto:lee@northwind.example
ATTENDEE:mailto:dana@northwind.example
END:VEVENT
BEGIN:VEVENT
UID:offsite@northwind.example
DTSTAMP:20261101T000000Z
DTSTART;VALUE=DATE:20261211
DTEND;VALUE=DATE:20261212
SUMMARY:Team offsite
END:VEVENT
END:VCALENDAR
"""


def seed_week(app: App, folder: Path) -> str:
    """The week of MONDAY in the owner's calendar; the id of the twin's pending proposal (Thursday 15:00)."""
    ics = folder / "export.ics"
    ics.write_text(EXPORT, encoding="utf-8")
    import_ics(app.calendar, ics)
    app.calendar.create(
        CalEvent(
            summary="Dentist (maybe)",
            start=datetime(2026, 12, 8, 12, 0, tzinfo=BERLIN),
            end=datetime(2026, 12, 8, 13, 0, tzinfo=BERLIN),
            status=Status.TENTATIVE,
            attendees=[Attendee(email="dana@northwind.example")],
        )
    )
    start, end = datetime(2026, 12, 10, 15, 0, tzinfo=BERLIN), datetime(2026, 12, 10, 15, 30, tzinfo=BERLIN)
    payload = tentative_event_payload(
        "Roadmap sync",
        start.isoformat(),
        end.isoformat(),
        "dana@northwind.example",
        ["sam@northwind.example"],
    )
    return held_for_owner(
        app,
        "sam@northwind.example",
        ActionKind.CREATE_EVENT,
        payload,
        "tentative “Roadmap sync” with Sam on Thu 10 Dec 15:00",
    ).id
