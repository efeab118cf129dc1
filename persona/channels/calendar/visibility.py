"""Who sees what of the owner's calendar.

- the owner: everything;
- colleagues: busy instances with their times; the title of a non-private event, but never its
  description, location, attendees, organizer or UID; a private (CLASS:PRIVATE/CONFIDENTIAL) event
  shows only as "busy";
- family and contacts: free/busy only (every busy instance titled "busy");
- strangers: nothing.
Cancelled and transparent events are not shown to anyone but the owner: they are not busy time.
"""

from __future__ import annotations

from persona.channels.calendar.models import CalEvent
from persona.events import Principal
from persona.profile import Role

BUSY = "busy"


def redact_for(principal: Principal, events: list[CalEvent]) -> list[CalEvent]:
    if principal.is_owner:
        return list(events)
    if principal.role is Role.STRANGER:
        return []
    titles = principal.role is Role.COLLEAGUE
    return [_free_busy(e, show_title=titles and not e.private) for e in events if e.busy]


def _free_busy(event: CalEvent, show_title: bool) -> CalEvent:
    return CalEvent(
        summary=event.summary if show_title else BUSY,
        start=event.start,
        end=event.end,
        all_day=event.all_day,
        status=event.status,
        private=event.private,
    )
