"""Trigger math in the owner's zone: APScheduler 3 takes no injected clock, so the schedule is checked
through the triggers themselves, across the DST changes of 2026."""

from __future__ import annotations

import itertools
from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from persona.profile import Profile
from persona.scheduler.service import job_specs


def _fire_times(profile: Profile, job_id: str, start: datetime, count: int) -> list[datetime]:
    trigger = next(s.trigger for s in job_specs(profile) if s.id == job_id)
    times, previous, now = [], None, start
    for _ in range(count):
        fire = trigger.get_next_fire_time(previous, now)
        times.append(fire)
        previous, now = fire, fire + timedelta(seconds=1)
    return times


@pytest.mark.parametrize(
    ("zone", "change_day", "utc_before", "utc_after"),
    [
        ("Europe/Berlin", 29, 6, 5),  # spring forward on Sun 29 March 2026: CET 07:30 = 06:30Z, CEST = 05:30Z
        ("America/New_York", 8, 12, 11),  # Sun 8 March 2026: EST 07:30 = 12:30Z, EDT = 11:30Z
    ],
)
def test_brief_fires_at_local_0730_across_spring_dst(
    profile: Profile, zone: str, change_day: int, utc_before: int, utc_after: int
) -> None:
    profile = profile.model_copy(update={"owner": profile.owner.model_copy(update={"timezone": zone})})
    start = datetime(2026, 3, change_day - 2, 12, 0, tzinfo=ZoneInfo(zone))
    fires = _fire_times(profile, "persona:brief", start, 4)

    assert [f.astimezone(ZoneInfo(zone)).time() for f in fires] == [time(7, 30)] * 4
    assert [f.date().day for f in fires] == [change_day - 1, change_day, change_day + 1, change_day + 2]
    utc_hours = [f.astimezone(ZoneInfo("UTC")).hour for f in fires]
    assert utc_hours == [utc_before, utc_after, utc_after, utc_after]


def test_brief_fires_at_local_0730_across_autumn_dst(profile: Profile) -> None:
    berlin = ZoneInfo("Europe/Berlin")
    fires = _fire_times(profile, "persona:brief", datetime(2026, 10, 23, 12, 0, tzinfo=berlin), 4)
    assert [(f.astimezone(berlin).day, f.astimezone(berlin).time()) for f in fires] == [
        (24, time(7, 30)),
        (25, time(7, 30)),
        (26, time(7, 30)),
        (27, time(7, 30)),
    ]
    # 25 October 2026 falls back at 03:00: 07:30 is then 06:30Z, the day before 05:30Z.
    assert [f.astimezone(ZoneInfo("UTC")).hour for f in fires] == [5, 6, 6, 6]


def test_configured_brief_time_and_interval(profile: Profile) -> None:
    profile = profile.model_copy(
        update={
            "schedule": profile.schedule.model_copy(
                update={"daily_brief_at": time(6, 45), "inbox_every_minutes": 10}
            )
        }
    )
    berlin = ZoneInfo("Europe/Berlin")
    brief = _fire_times(profile, "persona:brief", datetime(2026, 12, 1, 7, 0, tzinfo=berlin), 1)[0]
    assert brief == datetime(2026, 12, 2, 6, 45, tzinfo=berlin)
    inbox = _fire_times(profile, "persona:inbox", datetime(2026, 12, 1, 7, 0, tzinfo=berlin), 3)
    assert [b - a for a, b in itertools.pairwise(inbox)] == [timedelta(minutes=10)] * 2


def test_upkeep_on_the_spring_forward_night(profile: Profile) -> None:
    """02:30 does not exist in Berlin on 29 March 2026; upkeep must still run that day, once."""
    berlin = ZoneInfo("Europe/Berlin")
    fires = _fire_times(profile, "persona:upkeep", datetime(2026, 3, 28, 12, 0, tzinfo=berlin), 3)
    days = [f.astimezone(berlin).date().day for f in fires]
    assert days == [29, 30, 31]
