"""The calendar channel: a local ICS folder or a CalDAV server behind one interface, plus iMIP.

Public API:
- backends: `ICSBackend(folder, zone)`, `CalDAVBackend(url, zone, username, password, calendar)`,
  both `CalendarBackend`: events / busy / get / create / move / cancel;
- `import_ics(backend, path) -> ImportSummary`;
- iMIP: `build_request`, `build_reply`, `parse_invitation`, `invitation_decision`,
  `answer_invitation`;
- `redact_for(principal, events)`.
"""

from persona.channels.calendar.base import CalendarBackend, merge_intervals
from persona.channels.calendar.caldav import CalDAVBackend
from persona.channels.calendar.errors import CalendarError, CalendarUnavailable, EventNotFound, InvalidICS
from persona.channels.calendar.ics import ICSBackend
from persona.channels.calendar.imip import Invitation, Method, build_reply, build_request, parse_invitation
from persona.channels.calendar.importer import import_ics
from persona.channels.calendar.invitations import answer_invitation, invitation_decision
from persona.channels.calendar.models import (
    Attendee,
    CalEvent,
    ImportSummary,
    Interval,
    PartStat,
    Status,
    Transparency,
)
from persona.channels.calendar.visibility import redact_for

__all__ = [
    "Attendee",
    "CalDAVBackend",
    "CalEvent",
    "CalendarBackend",
    "CalendarError",
    "CalendarUnavailable",
    "EventNotFound",
    "ICSBackend",
    "ImportSummary",
    "Interval",
    "InvalidICS",
    "Invitation",
    "Method",
    "PartStat",
    "Status",
    "Transparency",
    "answer_invitation",
    "build_reply",
    "build_request",
    "import_ics",
    "invitation_decision",
    "merge_intervals",
    "parse_invitation",
    "redact_for",
]
