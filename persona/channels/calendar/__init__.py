"""The calendar channel: a local ICS folder or a CalDAV server behind one interface.

Public API:
- backends: `ICSBackend(folder, zone)`, `CalDAVBackend(url, zone, username, password, calendar)`,
  both `CalendarBackend`: events / busy / get / create / move / cancel;
- `import_ics(backend, path) -> ImportSummary`;
- `redact_for(principal, events)`.

An invitation in the calendar (put there by a CalDAV server's scheduling, or imported) is listed by the
brief while the owner has not answered it; the twin reads and sends no iMIP mail.
"""

from persona.channels.calendar.base import CalendarBackend, merge_intervals
from persona.channels.calendar.caldav import CalDAVBackend
from persona.channels.calendar.errors import CalendarError, CalendarUnavailable, EventNotFound, InvalidICS
from persona.channels.calendar.ics import ICSBackend
from persona.channels.calendar.importer import import_ics
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
    "PartStat",
    "Status",
    "Transparency",
    "import_ics",
    "merge_intervals",
    "redact_for",
]
