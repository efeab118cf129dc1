"""The local ICS backend: import, recurrence expansion, all-day and multi-day events, broken files."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from persona.channels.calendar import (
    CalendarError,
    CalEvent,
    EventNotFound,
    ICSBackend,
    InvalidICS,
    Status,
    import_ics,
)

BERLIN = ZoneInfo("Europe/Berlin")

SAMPLE = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//Example//Export//EN
BEGIN:VTIMEZONE
TZID:Europe/Berlin
BEGIN:STANDARD
DTSTART:19701025T030000
RRULE:FREQ=YEARLY;BYMONTH=10;BYDAY=-1SU
TZOFFSETFROM:+0200
TZOFFSETTO:+0100
END:STANDARD
BEGIN:DAYLIGHT
DTSTART:19700329T020000
RRULE:FREQ=YEARLY;BYMONTH=3;BYDAY=-1SU
TZOFFSETFROM:+0100
TZOFFSETTO:+0200
END:DAYLIGHT
END:VTIMEZONE
BEGIN:VEVENT
UID:weekly@example.org
DTSTAMP:20250101T000000Z
DTSTART;TZID=Europe/Berlin:20250303T140000
DTEND;TZID=Europe/Berlin:20250303T150000
RRULE:FREQ=WEEKLY;COUNT=6
EXDATE;TZID=Europe/Berlin:20250317T140000
SUMMARY:Weekly review
END:VEVENT
BEGIN:VEVENT
UID:weekly@example.org
DTSTAMP:20250101T000000Z
RECURRENCE-ID;TZID=Europe/Berlin:20250324T140000
DTSTART;TZID=Europe/Berlin:20250325T100000
DTEND;TZID=Europe/Berlin:20250325T110000
SUMMARY:Weekly review (moved)
END:VEVENT
BEGIN:VEVENT
UID:offsite@example.org
DTSTAMP:20250101T000000Z
DTSTART;VALUE=DATE:20250305
DTEND;VALUE=DATE:20250308
SUMMARY:Team offsite
CLASS:CONFIDENTIAL
END:VEVENT
BEGIN:VEVENT
UID:utc@example.org
DTSTAMP:20250101T000000Z
DTSTART:20250304T080000Z
DTEND:20250304T083000Z
SUMMARY:UTC call
TRANSP:TRANSPARENT
END:VEVENT
BEGIN:VTODO
UID:todo@example.org
SUMMARY:A task
END:VTODO
END:VCALENDAR
"""


@pytest.fixture
def backend(tmp_path: Path) -> ICSBackend:
    return ICSBackend(tmp_path / "calendar", BERLIN)


@pytest.fixture
def sample(tmp_path: Path) -> Path:
    path = tmp_path / "export.ics"
    path.write_text(SAMPLE.replace("\n", "\r\n"), encoding="utf-8")
    return path


def span(first: date, last: date) -> tuple[datetime, datetime]:
    return datetime.combine(first, time(0), BERLIN), datetime.combine(last, time(0), BERLIN)


def test_import_groups_series_and_overrides_and_skips_todos(backend, sample):
    summary = import_ics(backend, sample)
    assert (summary.created, summary.updated, summary.recurring) == (3, 0, 1)
    assert summary.skipped == ["VTODO todo@example.org: not an event"]
    assert backend.uids() == ["offsite@example.org", "utc@example.org", "weekly@example.org"]
    again = import_ics(backend, sample)
    assert (again.created, again.updated) == (0, 3)


def test_recurrence_expansion_with_exdate_and_moved_instance_across_dst(backend, sample):
    import_ics(backend, sample)
    weekly = [
        e for e in backend.events(*span(date(2025, 3, 1), date(2025, 4, 15))) if e.uid == "weekly@example.org"
    ]
    starts = [e.start.astimezone(BERLIN).strftime("%m-%d %H:%M") for e in weekly]
    # 03-17 excluded, 03-24 moved to 03-25 10:00; after 30 March still 14:00 local (12:00 UTC, not 13:00).
    assert starts == ["03-03 14:00", "03-10 14:00", "03-25 10:00", "03-31 14:00", "04-07 14:00"]
    assert weekly[-1].start.utcoffset() == timedelta(hours=2)
    moved = weekly[2]
    assert moved.summary == "Weekly review (moved)"
    assert moved.recurrence_id == datetime(2025, 3, 24, 14, tzinfo=BERLIN)
    assert all(e.recurring for e in weekly)


def test_all_day_multi_day_event_blocks_whole_local_days(backend, sample):
    import_ics(backend, sample)
    offsite = backend.get("offsite@example.org")
    assert offsite.all_day and offsite.private
    assert (offsite.start, offsite.end) == (
        datetime(2025, 3, 5, tzinfo=BERLIN),
        datetime(2025, 3, 8, tzinfo=BERLIN),
    )
    busy = backend.busy(*span(date(2025, 3, 6), date(2025, 3, 7)))
    assert [(b.start, b.end) for b in busy] == [span(date(2025, 3, 6), date(2025, 3, 7))]


def test_transparent_and_cancelled_events_are_not_busy(backend, sample):
    import_ics(backend, sample)
    day = span(date(2025, 3, 4), date(2025, 3, 5))
    assert [e.summary for e in backend.events(*day)] == ["UTC call"]
    assert backend.busy(*day) == []
    uid = backend.create(
        CalEvent(
            summary="Dentist",
            start=datetime(2025, 3, 4, 16, tzinfo=BERLIN),
            end=datetime(2025, 3, 4, 17, tzinfo=BERLIN),
        )
    )
    assert len(backend.busy(*day)) == 1
    cancelled = backend.cancel(uid)
    assert cancelled.status is Status.CANCELLED and cancelled.sequence == 1
    assert backend.busy(*day) == []


def test_create_get_move_and_move_one_occurrence(backend, sample):
    import_ics(backend, sample)
    start = datetime(2025, 3, 12, 9, tzinfo=BERLIN)
    uid = backend.create(CalEvent(uid="plan@x", summary="Plan", start=start, end=start + timedelta(hours=1)))
    with pytest.raises(CalendarError, match="already exists"):
        backend.create(CalEvent(uid="plan@x", summary="Again", start=start, end=start + timedelta(hours=1)))
    moved = backend.move(uid, start + timedelta(hours=3), start + timedelta(hours=4))
    assert backend.get(uid).start == moved.start == datetime(2025, 3, 12, 12, tzinfo=BERLIN)
    backend.move(
        "weekly@example.org",
        datetime(2025, 3, 10, 16, tzinfo=BERLIN),
        datetime(2025, 3, 10, 17, tzinfo=BERLIN),
        recurrence_id=datetime(2025, 3, 10, 14, tzinfo=BERLIN),
    )
    week = backend.events(*span(date(2025, 3, 10), date(2025, 3, 11)))
    assert [(e.summary, e.start.hour) for e in week] == [("Weekly review", 16)]
    assert backend.get("weekly@example.org").start == datetime(2025, 3, 3, 14, tzinfo=BERLIN)  # series intact
    with pytest.raises(EventNotFound):
        backend.get("nope@x")


BROKEN = {
    "missing END": (
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nDTSTART:20250101T100000Z\nEND:VCALENDAR\n",
        r"line 6: END:VCALENDAR does not close BEGIN:VEVENT from line 3",
    ),
    "garbage line": (
        "BEGIN:VCALENDAR\nVERSION:2.0\nthis is not ical\nEND:VCALENDAR\n",
        r"line 3: not an iCalendar content line",
    ),
    "bad date": (
        (
            "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nSUMMARY:x\nDTSTART:2025013T100000Z\n"
            "END:VEVENT\nEND:VCALENDAR\n"
        ),
        r"line 6: event a: DTSTART",
    ),
    "no DTSTART": (
        "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:a\nEND:VEVENT\nEND:VCALENDAR\n",
        r"line 3: event a has no DTSTART",
    ),
    "not a calendar": ("hello\n", r"line 1: an iCalendar file must start with BEGIN:VCALENDAR"),
    "never closed": ("BEGIN:VCALENDAR\nVERSION:2.0\n", r"line 1: BEGIN:VCALENDAR is never closed"),
}


@pytest.mark.parametrize("case", sorted(BROKEN))
def test_broken_file_names_the_line_and_imports_nothing(backend, tmp_path, case):
    text, message = BROKEN[case]
    path = tmp_path / "broken.ics"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidICS, match=message) as caught:
        import_ics(backend, path)
    assert str(path) in str(caught.value) and "\n" not in str(caught.value)
    assert backend.uids() == []


def test_non_utf8_file_is_reported_with_its_line(backend, tmp_path):
    path = tmp_path / "latin1.ics"
    path.write_bytes("BEGIN:VCALENDAR\nSUMMARY:Caf\xe9\n".encode("latin-1"))
    with pytest.raises(InvalidICS, match="line 2: not UTF-8"):
        import_ics(backend, path)
