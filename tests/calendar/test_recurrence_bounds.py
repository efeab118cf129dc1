"""Hostile calendars: import refuses events that end before they start and sub-hourly rules; every read
stays bounded, also over files written by hand into the calendar folder."""

from __future__ import annotations

import time
import tracemalloc
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from persona.channels.calendar import ICSBackend, InvalidICS, import_ics
from persona.channels.calendar.recurrence import MAX_OCCURRENCES

BERLIN = ZoneInfo("Europe/Berlin")
DAY = datetime(2026, 3, 1, tzinfo=BERLIN)


def vevent(uid: str, start: str, end: str, *extra: str) -> str:
    lines = [
        "BEGIN:VEVENT",
        f"UID:{uid}",
        "DTSTAMP:20260101T000000Z",
        f"DTSTART:{start}",
        f"DTEND:{end}",
        f"SUMMARY:{uid}",
        *extra,
        "END:VEVENT",
    ]
    return "\n".join(lines)


def ics(*events: str) -> str:
    return "\n".join(["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//test//EN", *events, "END:VCALENDAR", ""])


SECONDLY = vevent("secondly@x", "20260101T000000Z", "20260101T000001Z", "RRULE:FREQ=SECONDLY;COUNT=100000000")
MINUTELY = vevent("minutely@x", "20200101T000000Z", "20200101T000100Z", "RRULE:FREQ=MINUTELY")
DISGUISED = vevent(
    "disguised@x",
    "19000101T000000Z",
    "19000101T000001Z",
    "RRULE:FREQ=DAILY;BYHOUR=" + ",".join(map(str, range(24))) + ";BYMINUTE=" + ",".join(map(str, range(60))),
)
STUCK = vevent("stuck@x", "20260101T000000Z", "20260101T010000Z", "RRULE:FREQ=DAILY;INTERVAL=0")


@pytest.fixture
def backend(tmp_path: Path) -> ICSBackend:
    return ICSBackend(tmp_path / "calendar", BERLIN)


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "in.ics"
    path.write_text(text, encoding="utf-8")
    return path


def test_import_refuses_an_event_that_ends_before_it_starts(backend, tmp_path):
    path = write(
        tmp_path,
        ics(
            vevent("ok@x", "20260301T090000Z", "20260301T100000Z"),
            vevent("backwards@x", "20260301T100000Z", "20260301T090000Z"),
        ),
    )
    with pytest.raises(
        InvalidICS, match=r"line 15: event backwards@x ends \(2026-03-01 09:00.*\) before it starts"
    ) as caught:
        import_ics(backend, path)
    assert "\n" not in str(caught.value)
    assert backend.uids() == []


@pytest.mark.parametrize(
    "event, why",
    [
        (SECONDLY, "FREQ=SECONDLY repeats more often than hourly"),
        (MINUTELY, "FREQ=MINUTELY repeats more often than hourly"),
        (STUCK, "INTERVAL=0 is not a positive number"),
        (vevent("nofreq@x", "20260101T000000Z", "20260101T010000Z", "RRULE:COUNT=3"), "has no FREQ"),
    ],
)
def test_import_refuses_rules_that_repeat_more_often_than_hourly_or_never_advance(
    backend, tmp_path, event, why
):
    path = write(tmp_path, ics(event))
    uid = event.split("UID:")[1].split("\n")[0]
    with pytest.raises(InvalidICS, match=rf"line 10: event {uid}: RRULE {why}; not imported") as caught:
        import_ics(backend, path)
    assert "\n" not in str(caught.value)
    assert backend.uids() == []


def test_hourly_rules_are_imported_and_one_query_returns_at_most_the_cap(backend, tmp_path):
    hourly = vevent("hourly@x", "20260101T000000Z", "20260101T001000Z", "RRULE:FREQ=HOURLY")
    import_ics(backend, write(tmp_path, ics(hourly)))
    assert len(backend.events(DAY, DAY + timedelta(days=1))) == 24
    capped = backend.events(DAY, DAY + timedelta(days=100))  # 2,400 instances in the window
    assert len(capped) == MAX_OCCURRENCES
    assert capped[0].start == DAY  # the earliest are kept
    assert capped[-1].start == DAY.astimezone(UTC) + timedelta(hours=MAX_OCCURRENCES - 1)


def test_an_old_daily_series_still_expands(backend, tmp_path):
    daily = vevent("standup@x", "19900102T090000Z", "19900102T091500Z", "RRULE:FREQ=DAILY")
    import_ics(backend, write(tmp_path, ics(daily)))
    assert [e.start.astimezone(BERLIN).hour for e in backend.events(DAY, DAY + timedelta(days=3))] == [
        10,
        10,
        10,
    ]


@pytest.mark.timeout(120)
def test_a_hand_written_hostile_calendar_is_read_in_bounded_time_and_memory(backend):
    backend.folder.mkdir(parents=True)
    for n, event in enumerate([SECONDLY, MINUTELY, DISGUISED, STUCK]):
        (backend.folder / f"hostile{n}.ics").write_text(ics(event), encoding="utf-8")
    daily = vevent("daily@x", "20260101T120000Z", "20260101T130000Z", "RRULE:FREQ=DAILY")
    (backend.folder / "daily.ics").write_text(ics(daily), encoding="utf-8")
    began = time.monotonic()
    tracemalloc.start()
    try:
        events = backend.events(DAY, DAY + timedelta(days=3))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert time.monotonic() - began < 30  # 82 s and 1.27 GB before the bounds, on two cores
    assert peak < 64 * 2**20
    assert Counter(e.uid for e in events)["daily@x"] == 3
    assert all(count <= MAX_OCCURRENCES for count in Counter(e.uid for e in events).values())
