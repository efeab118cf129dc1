"""The owner's calendar on the desk: the week as a page, and events over some days as JSON (owner only)."""

from __future__ import annotations

import asyncio
from datetime import date, timedelta

from fastapi import APIRouter, Query, Request
from fastapi.responses import RedirectResponse, Response
from pydantic import BaseModel

from persona.calendar_view import MAX_DAYS, DeskEvent, events_between, monday_of
from persona.channels.calendar.models import WEEKDAYS
from persona.server.auth import Owner
from persona.server.errors import InvalidInput
from persona.server.routes.pages import MaybePrincipal, owner_only, render
from persona.server.state import server_state

router = APIRouter(tags=["calendar"])


class CalendarOut(BaseModel):
    start: date
    days: int
    zone: str
    events: list[DeskEvent]


def _date(value: str, name: str) -> date:
    try:
        day = date.fromisoformat(value)
    except ValueError:
        day = None
    if day is None or not 1 < day.year < 9999:  # the week around it must be a date too
        raise InvalidInput(f"`{name}`: {value[:40]!r} is not a date like 2026-12-07")
    return day


@router.get("/api/calendar")
async def calendar_api(
    request: Request, _: Owner, start: str | None = None, days: int = Query(7, ge=1, le=MAX_DAYS)
) -> CalendarOut:
    app = server_state(request).app
    first = _date(start, "start") if start is not None else app.clock().astimezone(app.profile.zone).date()
    events = await asyncio.to_thread(events_between, app, first, days)
    return CalendarOut(start=first, days=days, zone=app.profile.owner.timezone, events=events)


@router.get("/calendar", include_in_schema=False)
async def calendar_page(request: Request, principal: MaybePrincipal, week: str | None = None) -> Response:
    """The week (Monday to Sunday in the owner's zone) holding `week`, this week without it."""
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    app = server_state(request).app
    today = app.clock().astimezone(app.profile.zone).date()
    try:
        monday = monday_of(_date(week, "week") if week is not None else today)
    except InvalidInput:
        return RedirectResponse("/calendar", status_code=303)
    events = await asyncio.to_thread(events_between, app, monday, 7)
    hours = app.profile.working_hours
    days = [monday + timedelta(days=n) for n in range(7)]
    return await render(
        request,
        "calendar.html",
        principal,
        days=[
            (day, [e for e in events if _on(e, day)], WEEKDAYS[day.weekday()] in hours.days) for day in days
        ],
        today=today,
        hours=hours,
        zone=app.profile.owner.timezone,
        previous=monday - timedelta(days=7),
        next=monday + timedelta(days=7),
        this_week=monday_of(today),
    )


def _on(event: DeskEvent, day: date) -> bool:
    """Whether the event (times already in the owner's zone) takes part of this day; an end at midnight does
    not reach into the next."""
    last = (event.end - timedelta(microseconds=1)).date() if event.end > event.start else event.start.date()
    return event.start.date() <= day <= last
