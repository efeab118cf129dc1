"""The one interface both calendar backends (local ICS files, CalDAV) implement.

A backend only stores and finds raw iCalendar objects, one VCALENDAR per UID (a series master plus
its RECURRENCE-ID overrides). Everything above that (expansion, busy time, create/move/cancel,
answering an invitation) is shared here, so both backends behave the same.
"""

from __future__ import annotations

import copy
import uuid
from abc import ABC, abstractmethod
from collections.abc import Iterable
from datetime import UTC, date, datetime
from zoneinfo import ZoneInfo

import icalendar

from persona.channels.calendar.errors import CalendarError, EventNotFound
from persona.channels.calendar.models import CalEvent, Interval, Status
from persona.channels.calendar.recurrence import expand
from persona.channels.calendar.vevent import as_aware, to_component, to_event, wrap

_SERIES_ONLY = ("RRULE", "RDATE", "EXDATE", "RECURRENCE-ID")


def merge_intervals(intervals: Iterable[Interval]) -> list[Interval]:
    """Sorted, non-overlapping union of the intervals (touching ones are joined)."""
    merged: list[Interval] = []
    for item in sorted(intervals, key=lambda i: (i.start, i.end)):
        if merged and item.start <= merged[-1].end:
            if item.end > merged[-1].end:
                merged[-1] = Interval(start=merged[-1].start, end=item.end)
        else:
            merged.append(item)
    return merged


class CalendarBackend(ABC):
    """A calendar; all times it returns are tz-aware. `zone` is the owner's zone, used for all-day
    events, floating times and the VTIMEZONE of events it writes."""

    def __init__(self, zone: ZoneInfo):
        self.zone = zone

    # --- storage primitives each backend provides -------------------------------------------
    @abstractmethod
    def load(self, uid: str) -> icalendar.Calendar:
        """The stored VCALENDAR of this UID; raises EventNotFound."""

    @abstractmethod
    def store(self, uid: str, cal: icalendar.Calendar) -> bool:
        """Create or replace the object of this UID; True when it replaced one."""

    @abstractmethod
    def candidates(self, start: datetime, end: datetime) -> Iterable[icalendar.Calendar]:
        """Stored objects that may have instances in [start, end) (a superset is fine)."""

    # --- shared behaviour --------------------------------------------------------------------
    def exists(self, uid: str) -> bool:
        try:
            self.load(uid)
        except EventNotFound:
            return False
        return True

    def events(self, start: datetime, end: datetime) -> list[CalEvent]:
        """Every instance overlapping [start, end), recurrences expanded, sorted by start."""
        found = [e for cal in self.candidates(start, end) for e in expand(cal, start, end, self.zone)]
        return sorted(found, key=lambda e: (e.start, e.end, e.uid))

    def busy(self, start: datetime, end: datetime) -> list[Interval]:
        """Merged busy time in [start, end); transparent and cancelled events do not count."""
        return merge_intervals(
            Interval(start=max(e.start, start), end=min(e.end, end))
            for e in self.events(start, end)
            if e.busy
        )

    def get(self, uid: str) -> CalEvent:
        """The event (for a series: its master, i.e. the first occurrence as written)."""
        master = _master(self.load(uid), uid)
        return to_event(master, self.zone, recurring="RRULE" in master or "RDATE" in master)

    def create(self, event: CalEvent) -> str:
        uid = event.uid or f"{uuid.uuid4()}@persona-twin"
        if event.uid and self.exists(uid):
            raise CalendarError(f"an event with UID {uid} already exists; use move or cancel")
        self.store(uid, wrap([to_component(event.model_copy(update={"uid": uid}), self.zone)]))
        return uid

    def move(
        self, uid: str, start: datetime, end: datetime, recurrence_id: datetime | None = None
    ) -> CalEvent:
        """Move an event, or with `recurrence_id` one occurrence of a series (as an override)."""
        if end <= start:
            raise CalendarError(f"cannot move {uid}: the new end {end} is not after the new start {start}")
        cal = self.load(uid)
        target = _override(cal, uid, recurrence_id, self.zone) if recurrence_id else _master(cal, uid)
        original = target.decoded("DTSTART")
        for key, value in (("DTSTART", start), ("DTEND", end)):
            target.pop(key, None)
            target.add(key, _like(original, value, self.zone))
        target.pop("DURATION", None)
        _touch(target)
        self.store(uid, _rewrap(cal))
        return to_event(target, self.zone, recurring=recurrence_id is not None or "RRULE" in target)

    def cancel(self, uid: str, recurrence_id: datetime | None = None) -> CalEvent:
        """Mark the event (the whole series, or with `recurrence_id` one occurrence) cancelled; it stays
        stored so a CANCEL can be sent."""
        cal = self.load(uid)
        targets = [_override(cal, uid, recurrence_id, self.zone)] if recurrence_id else _components(cal, uid)
        for component in targets:
            component.pop("STATUS", None)
            component.add("STATUS", Status.CANCELLED.value)
            _touch(component)
        self.store(uid, _rewrap(cal))
        if recurrence_id:
            return to_event(targets[0], self.zone, recurring=True)
        return self.get(uid)


def _components(cal: icalendar.Calendar, uid: str) -> list[icalendar.Component]:
    found = [c for c in cal.walk("VEVENT") if str(c.get("UID")) == uid]
    if not found:
        raise EventNotFound(f"no event with UID {uid}")
    return found


def _master(cal: icalendar.Calendar, uid: str) -> icalendar.Component:
    components = _components(cal, uid)
    return next((c for c in components if "RECURRENCE-ID" not in c), components[0])


def _override(
    cal: icalendar.Calendar, uid: str, recurrence_id: datetime, zone: ZoneInfo
) -> icalendar.Component:
    """The override component of one occurrence, created from the master when missing."""
    for component in _components(cal, uid):
        rid = component.get("RECURRENCE-ID")
        if rid is not None and as_aware(rid.dt, zone) == recurrence_id:
            return component
    master = _master(cal, uid)
    if "RRULE" not in master and "RDATE" not in master:
        raise CalendarError(f"event {uid} does not recur; move it without a recurrence id")
    override = icalendar.Event()
    for key, value in master.items():
        if key not in _SERIES_ONLY and key not in ("DTSTART", "DTEND", "DURATION"):
            override[key] = copy.deepcopy(value)
    master_start = master.decoded("DTSTART")
    override.add(
        "RECURRENCE-ID",
        recurrence_id.astimezone(zone) if isinstance(master_start, datetime) else recurrence_id.date(),
    )
    override.add("DTSTART", master_start)  # replaced by the caller
    cal.add_component(override)
    return override


def _like(original: date | datetime, value: datetime, zone: ZoneInfo) -> date | datetime:
    """`value` in the form of the original DTSTART: a date, floating local time, or its own zone."""
    if not isinstance(original, datetime):
        return value.astimezone(zone).date()
    if original.tzinfo is None:
        return value.astimezone(zone).replace(tzinfo=None)
    return value.astimezone(original.tzinfo)


def _touch(component: icalendar.Component) -> None:
    """A significant change: bump SEQUENCE and DTSTAMP (RFC 5546), so attendees take the update."""
    sequence = int(component.get("SEQUENCE", 0)) + 1
    component.pop("SEQUENCE", None)
    component.add("SEQUENCE", sequence)
    component.pop("DTSTAMP", None)
    component.add("DTSTAMP", datetime.now(UTC))


def _rewrap(cal: icalendar.Calendar) -> icalendar.Calendar:
    cal.add_missing_timezones()
    return cal
