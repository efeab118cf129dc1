"""Carrying out calendar Actions that policy allowed: the executors the ActionGate calls."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import TYPE_CHECKING

from persona.channels.calendar.models import Attendee, CalEvent
from persona.events import Action, ActionKind

if TYPE_CHECKING:
    from persona.app import App


def tentative_event_payload(summary: str, start: str, end: str, organizer: str, attendees: list[str],
                            alternatives: Iterable[tuple[datetime, datetime]] = ()) -> dict:
    """What a CREATE_EVENT action carries: an event held as tentative until the owner approves it, and
    the other free times the solver found, for the owner to choose from instead."""
    others = [{"start": s.isoformat(), "end": e.isoformat()} for s, e in alternatives]
    return {"summary": summary, "start": start, "end": end, "organizer": organizer,
            "attendees": attendees, "status": "TENTATIVE"} | ({"alternatives": others} if others else {})


def _when(value: str | datetime | None) -> datetime | None:
    """A payload time: JSON keeps it as ISO text."""
    return datetime.fromisoformat(value) if isinstance(value, str) else value


def register_executors(app: App) -> None:
    calendar = app.calendar

    def create(action: Action) -> str:
        p = action.payload
        event = CalEvent(
            uid=action.id + "@persona-twin", summary=p["summary"], start=p["start"], end=p["end"],
            organizer=p.get("organizer", ""), attendees=[Attendee(email=a) for a in p.get("attendees", [])],
            status=p.get("status", "CONFIRMED"),
        )
        return f"event {calendar.create(event)} created"

    def move(action: Action) -> str:
        p = action.payload
        calendar.move(p["uid"], _when(p["start"]), _when(p["end"]), _when(p.get("recurrence_id")))
        return f"event {p['uid']} moved to {p['start']}"

    def cancel(action: Action) -> str:
        p = action.payload
        calendar.cancel(p["uid"], _when(p.get("recurrence_id")))
        return f"event {p['uid']} cancelled" + (f" on {p['recurrence_id']}" if p.get("recurrence_id") else "")

    app.gate.register(ActionKind.CREATE_EVENT, create)
    app.gate.register(ActionKind.MOVE_EVENT, move)
    app.gate.register(ActionKind.CANCEL_EVENT, cancel)
