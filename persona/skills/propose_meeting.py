"""From a meeting request to free slots on the owner's calendar: rules (and the LLM only for what rules
cannot read) turn text into constraints; the exact solver does the arithmetic."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from persona.channels.calendar.base import merge_intervals
from persona.channels.calendar.models import CalEvent, Interval
from persona.skills.meeting_request import MeetingConstraints, parse_meeting_request
from persona.skills.schedule import Preferences, Slot, find_slots

if TYPE_CHECKING:
    from persona.app import App

ALTERNATIVE_DAYS = 7  # when the asked window is full, how far on the twin looks for other times


class MeetingProposal(BaseModel):
    constraints: MeetingConstraints
    slots: list[Slot] = []

    @property
    def best(self) -> Slot | None:
        return self.slots[0] if self.slots else None


def propose_meeting(
    app: App,
    text: str,
    sent_at: datetime,
    *,
    sender: str = "",
    subject: str = "",
    use_llm: bool = False,
    limit: int = 3,
) -> MeetingProposal:
    """Constraints of the request and the owner's best free slots for it (none when it is unclear)."""
    profile = app.profile
    constraints = parse_meeting_request(
        text,
        sent_at,
        profile.zone,
        llm=app.llm if use_llm else None,
        people=profile.people,
        sender=sender,
        subject=subject,
        owner_emails=profile.owner.emails,
    )
    return MeetingProposal(constraints=constraints, slots=free_slots(app, constraints, sent_at, limit=limit))


def free_slots(
    app: App,
    constraints: MeetingConstraints,
    sent_at: datetime,
    *,
    limit: int = 3,
    per_day: int | None = 2,
    ignore: CalEvent | None = None,
) -> list[Slot]:
    """The owner's best free slots for clear constraints, from the calendar's busy time; none if unclear.
    `ignore`: an event whose own time does not count as busy (the one being moved)."""
    if constraints.needs_clarification or not constraints.windows:
        return []
    profile = app.profile
    query = constraints.slot_query([], [], max(sent_at, app.clock()))
    span_start, span_end = query.window.start - timedelta(days=1), query.window.end + timedelta(days=1)
    events = [e for e in app.calendar.events(span_start, span_end) if e.busy and not _same(e, ignore)]
    query = query.model_copy(
        update={
            "busy": merge_intervals(
                Interval(start=max(e.start, span_start), end=min(e.end, span_end)) for e in events
            ),
            "meetings": [e.interval for e in events if not e.all_day],
        }
    )
    return find_slots(
        query,
        profile.working_hours,
        profile.zone,
        Preferences(part_of_day=constraints.part_of_day),
        limit=limit,
        per_day=per_day,
    )


def slots_or_alternatives(
    app: App, constraints: MeetingConstraints, now: datetime, **kw: CalEvent | None
) -> tuple[list[Slot], list[Slot]]:
    """Free slots in the asked window; when none, the first free ones in the days after it."""
    slots = _spread(free_slots(app, constraints, now, limit=24, per_day=None, **kw))
    if slots or not constraints.windows:
        return slots, []
    last = max(w.day for w in constraints.windows)
    later = [
        w.model_copy(update={"day": last + timedelta(days=n)})
        for w in constraints.windows[-1:]
        for n in range(1, ALTERNATIVE_DAYS + 1)
    ]
    wider = constraints.model_copy(update={"windows": later})
    return [], _spread(free_slots(app, wider, now, limit=24, per_day=1, **kw))


def _spread(slots: list[Slot], keep: int = 3) -> list[Slot]:
    """The best slot, then others at least an hour from it and from each other: real alternatives, not
    the same gap fifteen minutes later."""
    chosen: list[Slot] = []
    for slot in slots:
        if all(abs((slot.start - c.start).total_seconds()) >= 3600 for c in chosen):
            chosen.append(slot)
        if len(chosen) == keep:
            break
    return chosen


def _same(event: CalEvent, other: CalEvent | None) -> bool:
    return other is not None and event.uid == other.uid and event.start == other.start
