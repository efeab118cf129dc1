"""Translation between iCalendar components (icalendar 7) and CalEvent."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import icalendar

from persona.channels.calendar.models import Attendee, CalEvent, PartStat, Status, Transparency

PRODID = "-//persona-twin//calendar//EN"
_PRIVATE_CLASSES = {"PRIVATE", "CONFIDENTIAL"}


def as_aware(value: date | datetime, zone: ZoneInfo) -> datetime:
    """Dates become local midnight and floating times local time, both in the calendar's zone."""
    if not isinstance(value, datetime):
        return datetime.combine(value, time(0), tzinfo=zone)
    return value.replace(tzinfo=zone) if value.tzinfo is None else value


def wrap(components: list[icalendar.Component]) -> icalendar.Calendar:
    """One VCALENDAR holding the components plus the VTIMEZONEs they refer to."""
    cal = icalendar.Calendar()
    cal.add("prodid", PRODID)
    cal.add("version", "2.0")
    for component in components:
        cal.add_component(component)
    cal.add_missing_timezones()
    return cal


def attendees_of(component: icalendar.Component) -> list[Attendee]:
    raw = component.get("ATTENDEE", [])
    result = []
    for address in raw if isinstance(raw, list) else [raw]:
        params = getattr(address, "params", {})
        partstat = str(params.get("PARTSTAT", PartStat.NEEDS_ACTION)).upper()
        result.append(
            Attendee(
                email=str(address),
                name=str(params.get("CN", "")),
                partstat=partstat if partstat in PartStat._value2member_map_ else PartStat.NEEDS_ACTION,
                rsvp=str(params.get("RSVP", "TRUE")).upper() == "TRUE",
            )
        )
    return result


def to_event(component: icalendar.Component, zone: ZoneInfo, recurring: bool = False) -> CalEvent:
    """One VEVENT (a single event or an expanded occurrence) as a CalEvent."""
    raw_start = component.decoded("DTSTART")
    start = as_aware(raw_start, zone)
    end = as_aware(component.end, zone) if _has_end(component) else start
    if not isinstance(raw_start, datetime) and end == start:
        end = start + timedelta(days=1)  # RFC 5545: an all-day event without DTEND lasts one day
    rid = component.get("RECURRENCE-ID")
    status = str(component.get("STATUS", "CONFIRMED")).upper()
    transp = str(component.get("TRANSP", "OPAQUE")).upper()
    return CalEvent(
        uid=str(component.get("UID", "")),
        summary=str(component.get("SUMMARY", "")),
        description=str(component.get("DESCRIPTION", "")),
        location=str(component.get("LOCATION", "")),
        start=start,
        end=end,
        all_day=not isinstance(raw_start, datetime),
        attendees=attendees_of(component),
        organizer=str(component.get("ORGANIZER", "")),
        status=status if status in Status._value2member_map_ else Status.CONFIRMED,
        transparency=transp if transp in Transparency._value2member_map_ else Transparency.OPAQUE,
        private=str(component.get("CLASS", "PUBLIC")).upper() in _PRIVATE_CLASSES,
        recurrence_id=as_aware(rid.dt, zone) if rid is not None and recurring else None,
        recurring=recurring,
        sequence=int(component.get("SEQUENCE", 0)),
    )


def _has_end(component: icalendar.Component) -> bool:
    return "DTEND" in component or "DURATION" in component


def to_component(event: CalEvent, zone: ZoneInfo, stamp: datetime | None = None) -> icalendar.Event:
    """A VEVENT for a new event. Timed events are written in UTC: every client reads that without a
    VTIMEZONE (the RDATE-style ones icalendar generates are misread by vobject, so by Radicale)."""
    component = icalendar.Event()
    component.add("uid", event.uid)
    component.add("dtstamp", stamp or datetime.now(UTC))
    if event.all_day:
        component.add("dtstart", event.start.astimezone(zone).date())
        component.add("dtend", event.end.astimezone(zone).date())
    else:
        component.add("dtstart", event.start.astimezone(UTC))
        component.add("dtend", event.end.astimezone(UTC))
    component.add("summary", event.summary)
    for key, value in (("description", event.description), ("location", event.location)):
        if value:
            component.add(key, value)
    if event.organizer:
        component.add("organizer", f"mailto:{event.organizer}")
    for person in event.attendees:
        params = {
            "PARTSTAT": person.partstat.value,
            "RSVP": "TRUE" if person.rsvp else "FALSE",
            "ROLE": "REQ-PARTICIPANT",
        }
        if person.name:
            params["CN"] = person.name
        component.add("attendee", f"mailto:{person.email}", parameters=params)
    component.add("status", event.status.value)
    component.add("transp", event.transparency.value)
    component.add("class", "PRIVATE" if event.private else "PUBLIC")
    component.add("sequence", event.sequence)
    return component
