"""iMIP (RFC 6047): calendar invitations carried by email, built and parsed.

Outgoing: METHOD=REQUEST / CANCEL from the owner as organizer, METHOD=REPLY from the owner as
attendee, each an EmailMessage (text/plain + text/calendar alternative) for the email channel.
Incoming: the text/calendar part of a mail becomes an `Invitation`. Its content is untrusted data.
"""

from __future__ import annotations

from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import formataddr, make_msgid, parseaddr
from enum import StrEnum
from zoneinfo import ZoneInfo

import icalendar
from pydantic import BaseModel

from persona.channels.calendar.errors import InvalidICS
from persona.channels.calendar.models import CalEvent, PartStat, Status
from persona.channels.calendar.vevent import to_component, to_event, wrap
from persona.profile import Owner

_CALENDAR_TYPES = {"text/calendar", "application/ics"}


class Method(StrEnum):
    REQUEST = "REQUEST"
    REPLY = "REPLY"
    CANCEL = "CANCEL"
    COUNTER = "COUNTER"


class Invitation(BaseModel):
    """One scheduling message as received; `event` is its (first) VEVENT."""

    method: Method
    sender: str  # the mail's From address, to compare with the organizer
    event: CalEvent
    rrule: str = ""  # the series rule when the invitation is for a recurring event
    comment: str = ""  # the COMMENT a COUNTER or REPLY carries
    ics: str  # the calendar text as received, to store it when accepted

    @property
    def uid(self) -> str:
        return self.event.uid


def build_request(
    event: CalEvent, owner: Owner, zone: ZoneInfo, method: Method = Method.REQUEST
) -> EmailMessage:
    """An invitation (or with Method.CANCEL a cancellation) from the owner to the event's attendees."""
    if not event.attendees:
        raise InvalidICS(f"event {event.uid} has no attendees to invite")
    organizer = owner.emails[0]
    event = event.model_copy(update={"organizer": organizer})
    if method is Method.CANCEL:
        event = event.model_copy(update={"status": Status.CANCELLED})
    component = to_component(event, zone)
    component.pop("ORGANIZER")
    component.add("ORGANIZER", f"mailto:{organizer}", parameters={"CN": owner.name})
    verb = (
        "Cancelled" if method is Method.CANCEL else ("Updated invitation" if event.sequence else "Invitation")
    )
    when = _when(event, zone)
    text = f"{verb}: {event.summary}\nWhen: {when}\nOrganizer: {owner.name} <{organizer}>\n"
    if event.location:
        text += f"Where: {event.location}\n"
    if event.description and method is not Method.CANCEL:
        text += f"\n{event.description}\n"
    return _message(
        sender=formataddr((owner.name, organizer)),
        to=[formataddr((a.name, a.email)) for a in event.attendees],
        subject=f"{verb}: {event.summary} @ {when}",
        text=text,
        cal=wrap([component], method=method.value),
        method=method,
    )


def build_reply(invitation: Invitation, owner: Owner, partstat: PartStat, comment: str = "") -> EmailMessage:
    """The owner's answer (ACCEPTED / DECLINED / TENTATIVE) to an invitation, addressed to its organizer."""
    if partstat not in (PartStat.ACCEPTED, PartStat.DECLINED, PartStat.TENTATIVE):
        raise InvalidICS(f"a reply must accept, decline or tentatively accept, not {partstat.value}")
    event = invitation.event
    me = next((a for a in event.attendees if a.email in owner.emails), None)
    address = me.email if me else owner.emails[0]
    reply = icalendar.Event()
    reply.add("UID", event.uid)
    reply.add("DTSTAMP", datetime.now(UTC))
    reply.add("SEQUENCE", event.sequence)
    reply.add("DTSTART", event.start.date() if event.all_day else event.start.astimezone(UTC))
    reply.add("DTEND", event.end.date() if event.all_day else event.end.astimezone(UTC))
    if event.recurrence_id is not None:
        reply.add("RECURRENCE-ID", event.recurrence_id.astimezone(UTC))
    reply.add("SUMMARY", event.summary)
    reply.add("ORGANIZER", f"mailto:{event.organizer}")
    reply.add("ATTENDEE", f"mailto:{address}", parameters={"PARTSTAT": partstat.value, "CN": owner.name})
    if comment:
        reply.add("COMMENT", comment)
    word = {PartStat.ACCEPTED: "Accepted", PartStat.DECLINED: "Declined", PartStat.TENTATIVE: "Tentative"}[
        partstat
    ]
    text = f"{owner.name} {word.lower()} the invitation: {event.summary}\n" + (
        f"\n{comment}\n" if comment else ""
    )
    return _message(
        sender=formataddr((owner.name, address)),
        to=[event.organizer],
        subject=f"{word}: {event.summary}",
        text=text,
        cal=wrap([reply], method=Method.REPLY.value),
        method=Method.REPLY,
    )


def parse_invitation(message: EmailMessage, zone: ZoneInfo) -> Invitation | None:
    """The scheduling message in a mail, or None when the mail carries no calendar part."""
    part = next((p for p in message.walk() if p.get_content_type() in _CALENDAR_TYPES), None)
    if part is None:
        return None
    payload = part.get_payload(decode=True) or b""
    text = payload.decode(part.get_content_charset() or "utf-8", errors="replace")
    try:
        cal = icalendar.Calendar.from_ical(text)
    except ValueError as exc:
        raise InvalidICS(f"the invitation's calendar part is not valid iCalendar: {exc}") from None
    raw_method = str(cal.get("METHOD") or part.get_param("method") or "").upper()
    if raw_method not in Method._value2member_map_:
        raise InvalidICS(
            f"unsupported iTIP method {raw_method or '(none)'}; expected REQUEST, CANCEL or COUNTER"
        )
    events = cal.walk("VEVENT")
    if not events:
        raise InvalidICS("the invitation has no VEVENT")
    component = next((c for c in events if "RECURRENCE-ID" not in c), events[0])
    if "DTSTART" not in component or "UID" not in component:
        raise InvalidICS("the invitation's VEVENT lacks DTSTART or UID")
    rrule = component.get("RRULE")
    return Invitation(
        method=Method(raw_method),
        sender=parseaddr(str(message.get("From", "")))[1].lower(),
        event=to_event(component, zone, recurring=rrule is not None or "RECURRENCE-ID" in component),
        rrule=rrule.to_ical().decode() if rrule is not None else "",
        comment=str(component.get("COMMENT", "")),
        ics=text,
    )


def stored_form(invitation: Invitation) -> icalendar.Calendar:
    """The invitation's calendar as a stored object: no METHOD (RFC 4791 forbids it in a collection)."""
    cal = icalendar.Calendar.from_ical(invitation.ics)
    cal.pop("METHOD", None)
    return cal


def _when(event: CalEvent, zone: ZoneInfo) -> str:
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    if event.all_day:
        return f"{start:%a %d %b %Y} (all day)"
    return f"{start:%a %d %b %Y %H:%M}-{end:%H:%M} ({zone.key})"


def _message(
    sender: str, to: list[str], subject: str, text: str, cal: icalendar.Calendar, method: Method
) -> EmailMessage:
    message = EmailMessage()
    message["From"] = sender
    message["To"] = ", ".join(to)
    message["Subject"] = subject
    message["Message-ID"] = make_msgid(domain=parseaddr(sender)[1].partition("@")[2] or None)
    message.set_content(text)
    message.add_alternative(
        cal.to_ical().decode("utf-8"), subtype="calendar", params={"method": method.value}
    )
    return message
