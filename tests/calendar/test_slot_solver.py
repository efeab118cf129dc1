"""The slot solver against an independent brute-force oracle, plus DST and recurrence cases."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from persona.channels.calendar import ICSBackend, Interval, import_ics
from persona.channels.calendar.models import WEEKDAYS
from persona.profile import WorkingHours
from persona.skills.schedule import FocusBlock, PartOfDay, Preferences, SlotQuery, find_slots

BERLIN = ZoneInfo("Europe/Berlin")
NEW_YORK = ZoneInfo("America/New_York")
# Sundays on which the clocks change in 2025.
TRANSITIONS = [date(2025, 3, 9), date(2025, 3, 30), date(2025, 10, 26), date(2025, 11, 2)]


@st.composite
def scenarios(draw):
    zone = draw(st.sampled_from([BERLIN, NEW_YORK]))
    first = draw(st.sampled_from(TRANSITIONS)) + timedelta(days=draw(st.integers(-3, 2)))
    days = draw(st.integers(1, 5))
    window = Interval(
        start=datetime.combine(first, time(draw(st.integers(0, 12))), zone),
        end=datetime.combine(first + timedelta(days=days), time(draw(st.integers(0, 23))), zone),
    )
    hours = WorkingHours(
        days=draw(st.lists(st.sampled_from(WEEKDAYS), min_size=1, max_size=7, unique=True)),
        start=time(draw(st.integers(6, 10)), draw(st.sampled_from([0, 30]))),
        end=time(draw(st.integers(14, 19)), draw(st.sampled_from([0, 30]))),
    )
    busy = []
    for _ in range(draw(st.integers(0, 12))):
        day = first + timedelta(days=draw(st.integers(0, days)))
        start = datetime.combine(
            day, time(draw(st.integers(6, 19)), draw(st.sampled_from([0, 10, 15, 30, 45]))), zone
        )
        busy.append(Interval(start=start, end=start + timedelta(minutes=draw(st.integers(5, 180)))))
    own = draw(st.lists(st.sampled_from(busy), unique=True)) if busy else []
    prefs = Preferences(
        earliest_start=draw(st.none() | st.sampled_from([time(9, 30), time(10), time(11)])),
        buffer_before=timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15]))),
        buffer_after=timedelta(minutes=draw(st.sampled_from([0, 5, 10, 15]))),
        max_meetings_per_day=draw(st.none() | st.integers(1, 3)),
        step=timedelta(minutes=draw(st.sampled_from([15, 30]))),
        focus_blocks=draw(
            st.lists(st.builds(FocusBlock, start=st.just(time(13)), end=st.just(time(14))), max_size=1)
        ),
    )
    query = SlotQuery(
        duration=timedelta(minutes=draw(st.sampled_from([15, 30, 45, 60, 90]))),
        window=window,
        busy=busy,
        meetings=own,
    )
    return zone, hours, prefs, query


def oracle(zone: ZoneInfo, hours: WorkingHours, prefs: Preferences, query: SlotQuery) -> set[datetime]:
    """Every acceptable start, found by walking absolute time (whole-hour zones: UTC grid = local grid)."""
    found = set()
    t = query.window.start.astimezone(UTC).replace(minute=0, second=0) - timedelta(hours=1)
    while t < query.window.end:
        start, end = t, t + query.duration
        t += prefs.step
        local_start, local_end = start.astimezone(zone), end.astimezone(zone)
        day = local_start.date()
        first = max(hours.start, prefs.earliest_start or time(0))
        counts = sum(1 for m in query.meetings if m.start.astimezone(zone).date() == day)
        blocks = [
            Interval(start=datetime.combine(day, b.start, zone), end=datetime.combine(day, b.end, zone))
            for b in prefs.focus_blocks
            if WEEKDAYS[day.weekday()] in b.days
        ]
        padded = Interval(start=start - prefs.buffer_before, end=end + prefs.buffer_after)
        if (
            start >= query.window.start
            and end <= query.window.end
            and WEEKDAYS[day.weekday()] in hours.days
            and local_end.date() == day
            and local_start.time() >= first
            and local_end.time() <= hours.end
            and not (prefs.max_meetings_per_day and counts >= prefs.max_meetings_per_day)
            and not any(padded.overlaps(b) for b in [*query.busy, *blocks])
        ):
            found.add(start)
    return found


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scenarios())
def test_solver_finds_exactly_the_acceptable_slots(scenario):
    zone, hours, prefs, query = scenario
    slots = find_slots(query, hours, zone, prefs, limit=10_000, per_day=None)
    assert {s.start for s in slots} == oracle(zone, hours, prefs, query)
    for slot in slots:
        assert slot.end - slot.start == query.duration  # absolute time, also across a DST change
        local = slot.start.astimezone(zone)
        assert local.minute % int(prefs.step.total_seconds() // 60) == 0
        padded = Interval(start=slot.start - prefs.buffer_before, end=slot.end + prefs.buffer_after)
        assert not any(padded.overlaps(b) for b in query.busy)


@settings(max_examples=100, deadline=None)
@given(scenarios())
def test_ranking_is_earliest_first_and_capped_per_day(scenario):
    zone, hours, prefs, query = scenario
    slots = find_slots(query, hours, zone, prefs, limit=5, per_day=2)
    assert len(slots) <= 5
    assert [s.start for s in slots] == sorted(s.start for s in slots)
    days = [s.start.astimezone(zone).date() for s in slots]
    assert all(days.count(d) <= 2 for d in days)


def _day(zone, day, start="00:00", end="23:59"):
    h1, m1 = map(int, start.split(":"))
    h2, m2 = map(int, end.split(":"))
    return Interval(
        start=datetime.combine(day, time(h1, m1), zone), end=datetime.combine(day, time(h2, m2), zone)
    )


@pytest.mark.parametrize(
    ("zone", "monday", "utc_hour"), [(BERLIN, date(2025, 3, 31), 7), (NEW_YORK, date(2025, 3, 10), 13)]
)
def test_working_hours_follow_local_time_after_spring_forward(zone, monday, utc_hour):
    # The week before the change, 09:00 was an hour later in UTC; the slot must follow the wall clock.
    query = SlotQuery(duration=timedelta(minutes=30), window=_day(zone, monday))
    first = find_slots(query, WorkingHours(), zone)[0]
    assert first.start.astimezone(zone).time() == time(9, 0)
    assert first.start.astimezone(UTC).hour == utc_hour


def test_a_slot_spanning_the_spring_forward_gap_lasts_its_real_duration():
    hours = WorkingHours(days=list(WEEKDAYS), start=time(1, 0), end=time(4, 0))
    query = SlotQuery(duration=timedelta(minutes=60), window=_day(BERLIN, date(2025, 3, 30)))
    slots = find_slots(query, hours, BERLIN, limit=50, per_day=None)
    local = [
        (s.start.astimezone(BERLIN).strftime("%H:%M"), s.end.astimezone(BERLIN).strftime("%H:%M"))
        for s in slots
    ]
    # 02:00-02:59 does not exist that night: 01:30 + 60 min ends 03:30 on the wall; no start at 02:xx.
    assert ("01:30", "03:30") in local
    assert not any(start.startswith("02:") for start, _ in local)
    assert local[-1] == ("03:00", "04:00")


def test_fall_back_night_uses_first_occurrence_and_real_duration():
    hours = WorkingHours(days=list(WEEKDAYS), start=time(2, 0), end=time(3, 0))
    query = SlotQuery(duration=timedelta(minutes=60), window=_day(BERLIN, date(2025, 10, 26)))
    slots = find_slots(query, hours, BERLIN, limit=50, per_day=None)
    # 02:00 (CEST) + 60 min = 02:00 (CET) on the wall; 02:15 would end 02:15 CET, still before 03:00.
    assert slots[0].start.utcoffset() == timedelta(hours=2)
    assert slots[0].end.astimezone(BERLIN).strftime("%H:%M") == "02:00"
    assert len(slots) == 4


def test_preferred_part_of_day_ranks_first_but_is_not_required():
    day = date(2025, 6, 3)
    busy = [_day(BERLIN, day, "13:00", "17:30")]
    query = SlotQuery(duration=timedelta(minutes=30), window=_day(BERLIN, day), busy=busy)
    afternoon = Preferences(part_of_day=PartOfDay.AFTERNOON)
    slots = find_slots(query, WorkingHours(), BERLIN, afternoon, limit=3, per_day=None)
    assert [s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots] == ["12:00", "12:15", "12:30"]
    assert all(s.preferred for s in slots)
    query = query.model_copy(update={"busy": [*busy, _day(BERLIN, day, "12:00", "13:00")]})
    slots = find_slots(query, WorkingHours(), BERLIN, afternoon, limit=1)
    assert slots[0].start.astimezone(BERLIN).time() == time(9, 0) and not slots[0].preferred


def test_allowed_windows_restrict_the_search():
    day = date(2025, 6, 3)
    query = SlotQuery(
        duration=timedelta(minutes=45),
        window=_day(BERLIN, day),
        allowed=[_day(BERLIN, day, "15:00", "16:00")],
    )
    slots = find_slots(query, WorkingHours(), BERLIN, limit=10, per_day=None)
    assert [s.start.astimezone(BERLIN).strftime("%H:%M") for s in slots] == ["15:00", "15:15"]


STANDUP = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:standup@example.org
DTSTART;TZID=Europe/Berlin:20250324T090000
DTEND;TZID=Europe/Berlin:20250324T100000
RRULE:FREQ=DAILY;BYDAY=MO,TU,WE,TH,FR
EXDATE;TZID=Europe/Berlin:{exdate}T090000
SUMMARY:Standup
END:VEVENT
BEGIN:VEVENT
UID:standup@example.org
RECURRENCE-ID;TZID=Europe/Berlin:{moved}T090000
DTSTART;TZID=Europe/Berlin:{moved}T{moved_to:02d}0000
DTEND;TZID=Europe/Berlin:{moved}T{moved_end:02d}0000
SUMMARY:Standup (moved)
END:VEVENT
END:VCALENDAR
"""


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    exdate=st.sampled_from([date(2025, 3, 26), date(2025, 3, 31), date(2025, 4, 2)]),
    moved=st.sampled_from([date(2025, 3, 25), date(2025, 3, 27), date(2025, 4, 1)]),
    moved_to=st.integers(11, 16),
)
def test_recurring_busy_time_honours_exdate_and_moved_instances(tmp_path_factory, exdate, moved, moved_to):
    folder = tmp_path_factory.mktemp("cal")
    source = folder / "standup.ics"
    source.write_text(
        STANDUP.format(
            exdate=f"{exdate:%Y%m%d}", moved=f"{moved:%Y%m%d}", moved_to=moved_to, moved_end=moved_to + 1
        )
    )
    backend = ICSBackend(folder / "store", BERLIN)
    import_ics(backend, source)
    window = Interval(start=datetime(2025, 3, 24, tzinfo=BERLIN), end=datetime(2025, 4, 5, tzinfo=BERLIN))
    busy = backend.busy(window.start, window.end)
    query = SlotQuery(duration=timedelta(minutes=60), window=window, busy=busy)
    slots = find_slots(query, WorkingHours(), BERLIN, limit=10_000, per_day=None)
    starts = {s.start for s in slots}
    for slot in slots:
        assert not any(slot.start < b.end and b.start < slot.end for b in busy)
    nine = lambda d: datetime.combine(d, time(9), BERLIN)
    assert nine(exdate) in starts  # the excluded occurrence frees its hour
    assert nine(moved) in starts  # the moved occurrence frees its original hour ...
    assert datetime.combine(moved, time(moved_to), BERLIN) not in starts  # ... and takes the new one
    assert nine(date(2025, 3, 28)) not in starts  # an ordinary occurrence stays busy
    assert nine(date(2025, 4, 3)) not in starts  # also after the DST change (07:00 UTC, not 08:00)


def test_max_meetings_per_day_skips_full_days():
    day = date(2025, 6, 3)
    meetings = [_day(BERLIN, day, "09:00", "09:30"), _day(BERLIN, day, "16:00", "16:30")]
    window = Interval(
        start=datetime.combine(day, time(0), BERLIN),
        end=datetime.combine(day + timedelta(days=2), time(0), BERLIN),
    )
    query = SlotQuery(duration=timedelta(minutes=30), window=window, busy=meetings, meetings=meetings)
    slots = find_slots(query, WorkingHours(), BERLIN, Preferences(max_meetings_per_day=2), limit=1)
    assert slots[0].start.astimezone(BERLIN).date() == day + timedelta(days=1)
