"""The owner's calendar over some days as the desk shows it: the calendar's events, plus the meetings the twin
proposed that wait for the owner's approval (they enter the calendar only once approved)."""

from __future__ import annotations

from datetime import date, datetime, time, timedelta
from typing import TYPE_CHECKING

from pydantic import BaseModel

from persona.channels.calendar.models import CalEvent, Status
from persona.events import ActionKind

if TYPE_CHECKING:
    from persona.app import App
    from persona.store import Approval

MAX_DAYS = 62  # as `persona calendar agenda --days`


class DeskEvent(BaseModel):
    """One event instance, times in the owner's zone with their offset."""

    title: str
    start: datetime
    end: datetime
    all_day: bool = False
    status: Status
    tentative: bool  # held, not confirmed: the twin's proposals and tentative answers
    proposed: bool = False  # not in the calendar yet: it is created when the owner approves
    attendees: int = 0
    location: str = ""
    approval: str | None = None  # the pending approval that creates or changes it


def monday_of(day: date) -> date:
    return day - timedelta(days=day.weekday())


def events_between(app: App, first: date, days: int) -> list[DeskEvent]:
    """Every event overlapping the days from `first` (owner's zone), recurrences expanded, sorted by start;
    cancelled ones left out, as in the agenda."""
    zone = app.profile.zone
    start = datetime.combine(first, time(0), zone)
    end = datetime.combine(first + timedelta(days=days), time(0), zone)
    pending = app.store.approvals("pending")
    changing = {str(a.action.payload["uid"]): a.id for a in pending if a.action.payload.get("uid")}
    found = [
        _from_calendar(e, changing.get(e.uid), app)
        for e in app.calendar.events(start, end)
        if e.status is not Status.CANCELLED
    ]
    proposed = (_proposed(a, app) for a in pending)
    found += [p for p in proposed if p is not None and p.start < end and p.end > start]
    for event in found:
        event.start, event.end = event.start.astimezone(zone), event.end.astimezone(zone)
    return sorted(found, key=lambda e: (e.start, e.end, e.title))


def _from_calendar(event: CalEvent, approval: str | None, app: App) -> DeskEvent:
    others = [a for a in event.attendees if not app.profile.is_owner(a.email)]
    return DeskEvent(
        title=event.summary or "(no title)",
        start=event.start,
        end=event.end,
        all_day=event.all_day,
        status=event.status,
        tentative=event.status is Status.TENTATIVE,
        attendees=len(others),
        location=event.location,
        approval=approval,
    )


def _proposed(approval: Approval, app: App) -> DeskEvent | None:
    """A pending CREATE_EVENT as the owner would approve it (with their edits); None for other approvals or a
    payload whose times do not read."""
    action = approval.effective_action
    if action.kind is not ActionKind.CREATE_EVENT:
        return None
    p = action.payload
    try:
        start, end = datetime.fromisoformat(str(p["start"])), datetime.fromisoformat(str(p["end"]))
    except (KeyError, ValueError):
        return None
    if start.tzinfo is None or end.tzinfo is None or end < start:
        return None
    others = [a for a in p.get("attendees", []) if not app.profile.is_owner(str(a))]
    status = Status.CONFIRMED if p.get("status") == Status.CONFIRMED else Status.TENTATIVE
    return DeskEvent(
        title=str(p.get("summary") or "Meeting"),
        start=start,
        end=end,
        status=status,
        tentative=True,
        proposed=True,
        attendees=len(others),
        location=str(p.get("location", "")),
        approval=approval.id,
    )
