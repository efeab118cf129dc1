"""The CalDAV backend against a real Radicale server: import, free/busy, create, move and cancel."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from persona.channels.calendar import (
    Attendee,
    CalDAVBackend,
    CalendarBackend,
    CalendarUnavailable,
    CalEvent,
    Interval,
    Status,
    import_ics,
)
from persona.profile import WorkingHours
from persona.skills.schedule import SlotQuery, find_slots

pytestmark = pytest.mark.integration

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")

EXPORT = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//Export//EN
BEGIN:VTIMEZONE
TZID:America/New_York
BEGIN:DAYLIGHT
TZOFFSETFROM:-0500
TZOFFSETTO:-0400
TZNAME:EDT
DTSTART:19700308T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=2SU
END:DAYLIGHT
BEGIN:STANDARD
TZOFFSETFROM:-0400
TZOFFSETTO:-0500
TZNAME:EST
DTSTART:19701101T020000
RRULE:FREQ=YEARLY;BYMONTH=11;BYDAY=1SU
END:STANDARD
END:VTIMEZONE
BEGIN:VEVENT
UID:standup@example.org
DTSTAMP:20250101T000000Z
DTSTART;TZID=America/New_York:20250306T093000
DTEND;TZID=America/New_York:20250306T100000
RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR;COUNT=10
EXDATE;TZID=America/New_York:20250311T093000
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:standup@example.org
DTSTAMP:20250101T000000Z
RECURRENCE-ID;TZID=America/New_York:20250312T093000
DTSTART;TZID=America/New_York:20250312T150000
DTEND;TZID=America/New_York:20250312T153000
SUMMARY:Standup (late)
END:VEVENT
BEGIN:VEVENT
UID:holiday@example.org
DTSTAMP:20250101T000000Z
DTSTART;VALUE=DATE:20250313
DTEND;VALUE=DATE:20250314
SUMMARY:Day off
END:VEVENT
BEGIN:VEVENT
UID:maybe@example.org
DTSTAMP:20250101T000000Z
DTSTART;TZID=America/New_York:20250310T120000
DTEND;TZID=America/New_York:20250310T130000
SUMMARY:Optional lunch talk
TRANSP:TRANSPARENT
END:VEVENT
END:VCALENDAR
"""


def local(day: int, hour: int = 0, minute: int = 0, zone: ZoneInfo = NEW_YORK) -> datetime:
    return datetime.combine(date(2025, 3, day), time(hour, minute), zone)


def test_import_expand_and_server_free_busy(radicale, tmp_path: Path):
    backend = CalDAVBackend(radicale, NEW_YORK, username="dana", password="x", calendar="work")
    path = tmp_path / "export.ics"
    path.write_text(EXPORT, encoding="utf-8")
    summary = import_ics(backend, path)
    assert (summary.created, summary.recurring) == (3, 1)

    events = backend.events(local(10), local(15))
    standups = [(e.start.day, e.start.strftime("%H:%M")) for e in events if e.uid == "standup@example.org"]
    # 9 March is the DST change in New York: 09:30 stays 09:30 local; 11th excluded; 12th moved to 15:00.
    assert standups == [(10, "09:30"), (12, "15:00"), (13, "09:30"), (14, "09:30")]
    assert events[0].start.utcoffset() == timedelta(hours=-4)

    busy = backend.busy(local(10), local(15))
    assert [(b.start, b.end) for b in busy] == [
        (local(10, 9, 30), local(10, 10)),
        (local(12, 15), local(12, 15, 30)),
        (local(13), local(14)),  # the all-day day off; the transparent lunch talk is free
        (local(14, 9, 30), local(14, 10)),
    ]
    # The solver on that busy time: Monday's standup holds 09:30-10:00, so 10:00 comes first.
    query = SlotQuery(
        duration=timedelta(minutes=45), window=Interval(start=local(10, 9, 15), end=local(11)), busy=busy
    )
    assert find_slots(query, WorkingHours(), NEW_YORK, limit=1)[0].start == local(10, 10)
    backend.close()


def test_server_free_busy_agrees_with_events_across_dst(radicale, tmp_path: Path):
    backend = CalDAVBackend(
        radicale, NEW_YORK, username="dana", password="x", calendar="work", server_freebusy=True
    )
    # Without the all-day event: Radicale places a DATE on the UTC day, we on the owner's local day.
    path = tmp_path / "export.ics"
    start = EXPORT.index("BEGIN:VEVENT\nUID:holiday")
    path.write_text(EXPORT[:start] + EXPORT[EXPORT.index("END:VEVENT\n", start) + 11 :], encoding="utf-8")
    assert import_ics(backend, path).created == 2
    raw = backend.calendar.freebusy_request(local(5), local(15))
    assert "FREEBUSY;FBTYPE=BUSY" in raw.data  # the answer really comes from the server
    from_server = backend.busy(local(5), local(15))
    assert from_server == CalendarBackend.busy(backend, local(5), local(15))
    assert (local(10, 9, 30), local(10, 10)) in [(b.start, b.end) for b in from_server]  # after 9 March too
    backend.close()


def test_create_move_and_cancel(radicale):
    backend = CalDAVBackend(radicale, BERLIN, username="dana", password="x", calendar="work")
    start = local(20, 14, zone=BERLIN)
    uid = backend.create(
        CalEvent(
            summary="Planning",
            start=start,
            end=start + timedelta(minutes=45),
            organizer="dana@northwind.example",
            attendees=[Attendee(email="sam@northwind.example", name="Sam Okafor")],
        )
    )
    stored = backend.get(uid)
    assert (stored.summary, stored.start, stored.attendees[0].email) == (
        "Planning",
        start,
        "sam@northwind.example",
    )

    moved = backend.move(uid, start + timedelta(hours=1), start + timedelta(hours=1, minutes=45))
    assert backend.get(uid).start == moved.start and moved.sequence == 1
    assert backend.cancel(uid).status is Status.CANCELLED
    assert backend.busy(start, start + timedelta(hours=3)) == []
    backend.close()


def test_unreachable_server_is_one_line_error():
    with pytest.raises(CalendarUnavailable, match="CalDAV request failed"):
        CalDAVBackend("http://127.0.0.1:9/", BERLIN, username="dana", password="x", timeout=5)
