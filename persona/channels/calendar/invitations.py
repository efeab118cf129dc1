"""What to do with an incoming invitation, and recording the owner's answer.

`invitation_decision` only proposes; policy decides whether the answer is sent.
"""

from __future__ import annotations

from datetime import datetime
from email.message import EmailMessage
from typing import Literal

from persona.channels.calendar.base import CalendarBackend
from persona.channels.calendar.imip import Invitation, Method, build_reply, stored_form
from persona.channels.calendar.models import WEEKDAYS, CalEvent, Interval, PartStat, Status, Transparency
from persona.profile import Profile

Proposal = Literal["accept", "ask_owner", "decline"]


def invitation_decision(
    inv: Invitation, profile: Profile, busy: list[Interval], now: datetime | None = None
) -> tuple[Proposal, str]:
    """Accept only a request from a known person, inside working hours, when the owner is free.

    Anything else goes to the owner; an invitation that is already over is declined.
    """
    event = inv.event
    if inv.method is not Method.REQUEST:
        return "ask_owner", f"{inv.method.value.lower()} for {event.summary!r}: the owner decides"
    if now is not None and event.end <= now:
        return "decline", f"{event.summary!r} is already over"
    if inv.sender and inv.sender != event.organizer:
        return "ask_owner", f"sent by {inv.sender} on behalf of organizer {event.organizer}"
    person = profile.person_for(event.organizer)
    if person is None:
        return "ask_owner", f"organizer {event.organizer} is not one of your people"
    if not any(profile.is_owner(a.email) for a in event.attendees):
        return "ask_owner", "you are not listed as an attendee"
    if inv.rrule:
        return "ask_owner", f"recurring series ({inv.rrule}): the owner decides"
    if not _in_working_hours(event, profile):
        return "ask_owner", "outside your working hours"
    clash = next((b for b in busy if b.overlaps(event.interval)), None)
    if clash is not None:
        local = clash.start.astimezone(profile.zone)
        return "ask_owner", f"conflicts with busy time from {local:%a %H:%M}"
    return "accept", f"{person.name} ({person.role.value}), in working hours, and you are free"


def answer_invitation(
    backend: CalendarBackend, inv: Invitation, profile: Profile, partstat: PartStat, comment: str = ""
) -> tuple[EmailMessage, CalEvent]:
    """Store the invited event with the owner's answer and build the REPLY for the organizer.

    Tentative answers store the event as TENTATIVE; a declined one is kept but transparent, so it
    never blocks time.
    """
    cal = stored_form(inv)
    for component in cal.walk("VEVENT"):
        raw = component.get("ATTENDEE", [])
        for attendee in raw if isinstance(raw, list) else [raw]:
            if profile.is_owner(str(attendee).lower().removeprefix("mailto:")):
                attendee.params["PARTSTAT"] = partstat.value
                attendee.params.pop("RSVP", None)
        if partstat is PartStat.TENTATIVE:
            _set(component, "STATUS", Status.TENTATIVE.value)
        if partstat is PartStat.DECLINED:
            _set(component, "TRANSP", Transparency.TRANSPARENT.value)
    backend.store(inv.uid, cal)
    return build_reply(inv, profile.owner, partstat, comment), backend.get(inv.uid)


def _set(component, key: str, value: str) -> None:
    component.pop(key, None)
    component.add(key, value)


def _in_working_hours(event: CalEvent, profile: Profile) -> bool:
    if event.all_day:
        return False
    start, end = event.start.astimezone(profile.zone), event.end.astimezone(profile.zone)
    hours = profile.working_hours
    return (
        start.date() == end.date()
        and WEEKDAYS[start.weekday()] in hours.days
        and hours.start <= start.time()
        and end.time() <= hours.end
    )
