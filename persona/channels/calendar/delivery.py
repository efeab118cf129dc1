"""Carrying out calendar Actions that policy allowed: the calendar's executors, on the ActionGate while it is open."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime

from persona.actions import Executor
from persona.channels.calendar.base import CalendarBackend
from persona.channels.calendar.models import Attendee, CalEvent
from persona.events import Action, ActionKind
from persona.payloads import CancelledEvent, MovedEvent, NewEvent


def tentative_event_payload(
    summary: str,
    start: str,
    end: str,
    organizer: str,
    attendees: list[str],
    alternatives: Iterable[tuple[datetime, datetime]] = (),
) -> dict:
    """What a CREATE_EVENT action carries: an event held as tentative until the owner approves it, and
    the other free times the solver found, for the owner to choose from instead."""
    others = [{"start": s.isoformat(), "end": e.isoformat()} for s, e in alternatives]
    return {
        "summary": summary,
        "start": start,
        "end": end,
        "organizer": organizer,
        "attendees": attendees,
        "status": "TENTATIVE",
    } | ({"alternatives": others} if others else {})


def executors(calendar: CalendarBackend) -> dict[ActionKind, Executor]:
    """What `calendar` carries out: events created, moved and cancelled, each read from its typed payload."""

    def create(action: Action) -> str:
        p = NewEvent.of(action)
        event = CalEvent(
            uid=action.id + "@persona-twin",
            summary=p.summary,
            start=p.start,
            end=p.end,
            organizer=p.organizer,
            attendees=[Attendee(email=a) for a in p.attendees],
            status=p.status,
        )
        return f"event {calendar.create(event)} created"

    def move(action: Action) -> str:
        p = MovedEvent.of(action)
        calendar.move(p.uid, p.start, p.end, p.recurrence_id)
        return f"event {p.uid} moved to {p.start.isoformat()}"

    def cancel(action: Action) -> str:
        p = CancelledEvent.of(action)
        calendar.cancel(p.uid, p.recurrence_id)
        return f"event {p.uid} cancelled" + (f" on {p.recurrence_id.isoformat()}" if p.recurrence_id else "")

    return {ActionKind.CREATE_EVENT: create, ActionKind.MOVE_EVENT: move, ActionKind.CANCEL_EVENT: cancel}
