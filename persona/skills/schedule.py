"""The exact slot solver: free meeting slots from busy time, working hours and preferences.

Pure and deterministic: no LLM, no I/O, no clock. Candidate starts are laid on a grid of local wall
time in the owner's zone (so "10:00" means 10:00 on both sides of a DST change), a local time that
does not exist (spring forward) is skipped, and an ambiguous one (fall back) takes its first
occurrence. Durations and overlaps are measured in absolute time.
"""

from __future__ import annotations

import bisect
from datetime import UTC, date, datetime, time, timedelta
from enum import StrEnum
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, field_validator

from persona.channels.calendar.base import merge_intervals
from persona.channels.calendar.models import WEEKDAYS, Interval
from persona.profile import Weekday, WorkingHours


class PartOfDay(StrEnum):
    MORNING = "morning"
    AFTERNOON = "afternoon"
    EVENING = "evening"


# Local wall-time bounds of each part of day; working hours still apply on top.
PART_BOUNDS: dict[PartOfDay, tuple[time, time]] = {
    PartOfDay.MORNING: (time(6, 0), time(12, 0)),
    PartOfDay.AFTERNOON: (time(12, 0), time(18, 0)),
    PartOfDay.EVENING: (time(17, 0), time(22, 0)),
}


class FocusBlock(BaseModel):
    """Protected local time on the given weekdays: no meeting may overlap it."""

    days: list[Weekday] = list(WEEKDAYS[:5])
    start: time
    end: time


class Preferences(BaseModel):
    earliest_start: time | None = None  # e.g. 10:00 for "no meetings before ten"
    latest_end: time | None = None
    buffer_before: timedelta = timedelta(0)  # free time required before a new meeting
    buffer_after: timedelta = timedelta(0)  # free time required after it
    focus_blocks: list[FocusBlock] = []
    max_meetings_per_day: int | None = Field(default=None, ge=1)
    step: timedelta = timedelta(minutes=15)
    part_of_day: PartOfDay | None = None  # preferred, not required: such slots rank first

    @field_validator("step")
    @classmethod
    def _whole_minutes(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0) or value % timedelta(minutes=1):
            raise ValueError("step must be a positive whole number of minutes")
        return value


class SlotQuery(BaseModel):
    duration: timedelta
    window: Interval  # search only inside this span
    busy: list[Interval] = []  # the owner's and the attendees' busy time
    meetings: list[Interval] = []  # the owner's own meetings, counted against max_meetings_per_day
    allowed: list[Interval] | None = None  # e.g. "Tuesday or Thursday afternoon"; None: anywhere

    @field_validator("duration")
    @classmethod
    def _positive(cls, value: timedelta) -> timedelta:
        if value <= timedelta(0):
            raise ValueError("duration must be positive")
        return value


class Slot(BaseModel):
    start: datetime
    end: datetime
    preferred: bool  # inside the owner's preferred part of day (always True without one)


def find_slots(
    query: SlotQuery,
    hours: WorkingHours,
    zone: ZoneInfo,
    prefs: Preferences | None = None,
    limit: int = 5,
    per_day: int | None = 2,
) -> list[Slot]:
    """Free slots for the query, best first: preferred part of day, then earliest.

    A slot lies within the search window, within one allowed window, within working hours and the
    earliest/latest preferences of its local day; [start - buffer_before, end + buffer_after)
    overlaps no busy time and no focus block; its day has fewer than max_meetings_per_day meetings.
    `per_day` caps the proposals per day so the owner gets a choice of days.
    """
    prefs = prefs or Preferences()
    blocked = merge_intervals([*query.busy, *_focus_intervals(query.window, zone, prefs.focus_blocks)])
    starts = [b.start for b in blocked]
    meetings_per_day: dict[date, int] = {}
    for meeting in query.meetings:
        day = meeting.start.astimezone(zone).date()
        meetings_per_day[day] = meetings_per_day.get(day, 0) + 1

    slots: list[Slot] = []
    for day in _local_days(query.window, zone):
        if WEEKDAYS[day.weekday()] not in hours.days:
            continue
        if prefs.max_meetings_per_day and meetings_per_day.get(day, 0) >= prefs.max_meetings_per_day:
            continue
        for start in _grid(day, hours, prefs, zone):
            end = (start.astimezone(UTC) + query.duration).astimezone(zone)
            if not _fits_day(day, end, hours, prefs):
                break
            if start < query.window.start or end > query.window.end:
                continue
            if query.allowed is not None and not any(
                a.start <= start and end <= a.end for a in query.allowed
            ):
                continue
            if _collides(start - prefs.buffer_before, end + prefs.buffer_after, blocked, starts):
                continue
            slots.append(Slot(start=start, end=end, preferred=_in_part(start, end, prefs.part_of_day, zone)))

    slots.sort(key=lambda s: (not s.preferred, s.start))
    chosen: list[Slot] = []
    taken: dict[date, int] = {}
    for slot in slots:
        day = slot.start.astimezone(zone).date()
        if per_day is not None and taken.get(day, 0) >= per_day:
            continue
        taken[day] = taken.get(day, 0) + 1
        chosen.append(slot)
        if len(chosen) == limit:
            break
    return chosen


def local_time(day: date, at: time, zone: ZoneInfo) -> datetime | None:
    """The aware datetime of a local wall time, or None when that time does not exist (DST gap)."""
    candidate = datetime.combine(day, at, tzinfo=zone)
    back = candidate.astimezone(UTC).astimezone(zone)
    return candidate if back.replace(tzinfo=None) == candidate.replace(tzinfo=None) else None


def _local_days(window: Interval, zone: ZoneInfo) -> list[date]:
    first = window.start.astimezone(zone).date()
    last = window.end.astimezone(zone).date()
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _bounds(hours: WorkingHours, prefs: Preferences) -> tuple[time, time]:
    start = max(hours.start, prefs.earliest_start) if prefs.earliest_start else hours.start
    end = min(hours.end, prefs.latest_end) if prefs.latest_end else hours.end
    return start, end


def _grid(day: date, hours: WorkingHours, prefs: Preferences, zone: ZoneInfo):
    """Candidate starts of a day: local wall times on the step grid from midnight."""
    first, last = _bounds(hours, prefs)
    step = int(prefs.step.total_seconds() // 60)
    minute = -(-(first.hour * 60 + first.minute + (first.second > 0)) // step) * step
    while minute < last.hour * 60 + last.minute:
        start = local_time(day, time(minute // 60, minute % 60), zone)
        if start is not None:
            yield start
        minute += step


def _fits_day(day: date, end: datetime, hours: WorkingHours, prefs: Preferences) -> bool:
    """`end` is in the owner's zone: its wall time must not pass the day's last working minute."""
    return end.replace(tzinfo=None) <= datetime.combine(day, _bounds(hours, prefs)[1])


def _collides(start: datetime, end: datetime, blocked: list[Interval], starts: list[datetime]) -> bool:
    # blocked is merged and sorted, so only the last interval starting before `end` can overlap.
    index = bisect.bisect_left(starts, end) - 1
    return index >= 0 and blocked[index].end > start


def _in_part(start: datetime, end: datetime, part: PartOfDay | None, zone: ZoneInfo) -> bool:
    if part is None:
        return True
    low, high = PART_BOUNDS[part]
    local_start, local_end = start.astimezone(zone), end.astimezone(zone)
    return local_start.date() == local_end.date() and low <= local_start.time() and local_end.time() <= high


def _focus_intervals(window: Interval, zone: ZoneInfo, blocks: list[FocusBlock]) -> list[Interval]:
    result = []
    for day in _local_days(window, zone):
        for block in blocks:
            if WEEKDAYS[day.weekday()] in block.days:
                start = datetime.combine(day, block.start, tzinfo=zone)
                end = datetime.combine(day, block.end, tzinfo=zone)
                if end > start:
                    result.append(Interval(start=start, end=end))
    return result


def free_gaps(
    allowed: list[Interval],
    busy: list[Interval],
    hours: WorkingHours,
    zone: ZoneInfo,
    *,
    after: datetime,
    min_length: timedelta = timedelta(minutes=15),
) -> list[Interval]:
    """The owner's free stretches inside `allowed` and working hours, after `after`, at least `min_length`
    long: what "when am I free on Thursday afternoon?" asks for, where `find_slots` gives meeting starts."""
    blocked = merge_intervals(busy)
    gaps: list[Interval] = []
    for window in merge_intervals(allowed):
        for day in _local_days(window, zone):
            if WEEKDAYS[day.weekday()] not in hours.days:
                continue
            open_ = local_time(day, hours.start, zone) or datetime.combine(day, hours.start, zone)
            close = local_time(day, hours.end, zone) or datetime.combine(day, hours.end, zone)
            start, end = max(window.start, open_, after), min(window.end, close)
            for b in blocked:
                if b.end <= start or b.start >= end:
                    continue
                if b.start - start >= min_length:
                    gaps.append(Interval(start=start, end=b.start))
                start = max(start, b.end)
            if end - start >= min_length:
                gaps.append(Interval(start=start, end=end))
    return gaps
