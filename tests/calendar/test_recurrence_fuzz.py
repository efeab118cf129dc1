"""Fuzzing recurrence: whatever rule a file holds, imported or written by hand into the calendar folder,
an agenda finishes within the deadline and returns at most MAX_OCCURRENCES instances of each event, all
of them inside the window.

Rules are drawn from the parts that make expansion expensive: frequency, interval, count, a start long
ago, and time-of-day parts that multiply the instances. Left out: day filters that can never match
(BYMONTH=2;BYMONTHDAY=30), for which dateutil walks to the year 9999 whatever the bounds (see
persona/channels/calendar/recurrence.py).
"""

from __future__ import annotations

import tempfile
from collections import Counter
from datetime import datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona.channels.calendar import ICSBackend, import_ics
from persona.channels.calendar.recurrence import MAX_OCCURRENCES
from persona.errors import PersonaError

ZONE = ZoneInfo("Europe/Berlin")
FREQS = ["SECONDLY", "MINUTELY", "HOURLY", "DAILY", "WEEKLY", "MONTHLY", "YEARLY"]


def _values(part: str, values: list[int | str]) -> st.SearchStrategy[str]:
    return st.lists(st.sampled_from(values), min_size=1, max_size=len(values), unique=True).map(
        lambda chosen: f";{part}=" + ",".join(map(str, chosen))
    )


RULE_PARTS = st.tuples(
    st.sampled_from(FREQS).map(lambda f: f"FREQ={f}"),
    st.sampled_from(["", ";INTERVAL=0", ";INTERVAL=2", ";INTERVAL=15"]),
    st.sampled_from(
        ["", ";COUNT=3", ";COUNT=100000000", ";UNTIL=20260310T000000Z", ";UNTIL=20300101T000000Z"]
    ),
    st.one_of(st.just(""), _values("BYHOUR", list(range(24)))),
    st.one_of(st.just(""), _values("BYMINUTE", list(range(0, 60, 5)))),
    st.one_of(st.just(""), _values("BYSECOND", list(range(0, 60, 10)))),
    st.one_of(st.just(""), _values("BYDAY", ["MO", "TU", "WE", "TH", "FR", "SA", "SU"])),
    st.one_of(st.just(""), _values("BYMONTHDAY", [1, 15, 28, -1])),
    st.one_of(st.just(""), _values("BYMONTH", [1, 3, 6, 12])),
).map("".join)

EVENT = st.tuples(
    st.sampled_from(["19000101", "19900601", "20200101", "20260101", "20260302"]),
    st.sampled_from(["T000000Z", "T093000", "T235959Z"]),
    st.sampled_from(
        ["DTEND:{day}T100000Z", "DURATION:PT1S", "DURATION:PT30M", "DURATION:P3D", "DURATION:-PT1H"]
    ),
    RULE_PARTS,
)


def _calendar(events: list[tuple[str, str, str, str]]) -> str:
    lines = ["BEGIN:VCALENDAR", "VERSION:2.0", "PRODID:-//fuzz//EN"]
    for n, (day, at, end, rule) in enumerate(events):
        lines += [
            "BEGIN:VEVENT",
            f"UID:e{n}@fuzz",
            "DTSTAMP:20260101T000000Z",
            f"DTSTART:{day}{at}",
            end.format(day=day),
            "SUMMARY:fuzz",
        ]
        lines += [f"RRULE:{rule}", "END:VEVENT"]
    return "\r\n".join([*lines, "END:VCALENDAR", ""])


def _agenda_is_bounded(backend: ICSBackend, start: datetime, days: int) -> None:
    end = start + timedelta(days=days)
    try:
        events = backend.events(start, end)
    except PersonaError:
        return  # a damaged file written by hand is reported in one line
    assert all(count <= MAX_OCCURRENCES for count in Counter(e.uid for e in events).values())
    assert all(e.start < end and (e.end > start or e.start >= start) for e in events)


@settings(
    max_examples=120,
    deadline=timedelta(seconds=15),
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
@given(st.lists(EVENT, min_size=1, max_size=3), st.integers(min_value=0, max_value=20), st.integers(1, 62))
def test_any_rule_gives_a_bounded_agenda_imported_or_written_by_hand(events, offset, days):
    text = _calendar(events)
    start = datetime(2026, 3, 1, tzinfo=ZONE) + timedelta(days=offset)
    with tempfile.TemporaryDirectory() as tmp:
        source = Path(tmp) / "in.ics"
        source.write_text(text, encoding="utf-8")
        imported = ICSBackend(Path(tmp) / "imported", ZONE)
        try:
            import_ics(imported, source)
        except PersonaError:
            pass
        _agenda_is_bounded(imported, start, days)
        by_hand = ICSBackend(Path(tmp) / "by-hand", ZONE)
        by_hand.folder.mkdir()
        (by_hand.folder / "in.ics").write_text(text, encoding="utf-8")
        _agenda_is_bounded(by_hand, start, days)
