"""Server-rendered pages: sign-in and the chat (the owner's and others'), and how every page is rendered: the
owner's desk views (routes/desk.py and others) share its navigation. No front-end build."""

from __future__ import annotations

import asyncio
from datetime import datetime
from functools import partial
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from persona.events import Principal
from persona.server.auth import optional_principal
from persona.server.errors import Unauthorized
from persona.server.state import server_state
from persona.skills.prompt import first_name

router = APIRouter(include_in_schema=False)

# The owner's desk: one view per job, in the navigation's order.
DESK_VIEWS = [
    ("/today", "Today"),
    ("/approvals", "Approvals"),
    ("/conversations", "Conversations"),
    ("/calendar", "Calendar"),
    ("/rules", "Rules"),
    ("/memory", "Memory"),
    ("/activity", "Activity"),
    ("/chat", "Chat"),
]


async def page_principal(request: Request) -> Principal | None:
    """Pages send a stale or revoked cookie to the sign-in page instead of answering 401."""
    try:
        return await optional_principal(request)
    except Unauthorized:
        return None


MaybePrincipal = Annotated[Principal | None, Depends(page_principal)]


def _home_for(principal: Principal | None) -> str:
    if principal is None:
        return "/login"
    return "/today" if principal.is_owner else "/chat"


def owner_only(principal: Principal | None) -> Response | None:
    """Where a desk page sends anyone but the signed-in owner; None for the owner."""
    if principal is None or not principal.is_owner:
        return RedirectResponse(_home_for(principal), status_code=303)
    return None


async def render(
    request: Request,
    name: str,
    principal: Principal | None = None,
    status_code: int = 200,
    waiting: int | None = None,
    **context: object,
) -> HTMLResponse:
    """A page of `name` for `principal`; the owner's pages carry the desk's navigation and the count of
    what waits for approval (counted here unless the page did: `waiting`)."""
    app = server_state(request).app
    if waiting is None:
        owner = principal is not None and principal.is_owner
        waiting = await asyncio.to_thread(app.store.count_approvals, "pending") if owner else 0
    response = _render(
        request,
        name,
        principal=principal,
        desk_views=DESK_VIEWS,
        view=request.url.path,
        waiting=waiting,
        when=partial(local_time, zone=app.profile.zone),
        **context,
    )
    response.status_code = status_code
    return response


def _render(request: Request, name: str, **context: object) -> HTMLResponse:
    owner = server_state(request).app.profile.owner
    response = server_state(request).templates.TemplateResponse(
        request, name, {"owner_name": owner.name, "me": first_name(owner.name), **context}
    )
    response.headers["X-Frame-Options"] = "DENY"
    response.headers["Referrer-Policy"] = "no-referrer"
    response.headers["Cache-Control"] = "no-store"
    return response


@router.get("/")
async def index(principal: MaybePrincipal) -> Response:
    return RedirectResponse(_home_for(principal), status_code=303)


@router.get("/login")
@router.get("/join")
async def login_page(request: Request) -> Response:
    return _render(request, "login.html")


@router.get("/chat")
async def chat_page(request: Request, principal: MaybePrincipal) -> Response:
    if principal is None:
        return RedirectResponse("/login", status_code=303)
    sessions = await asyncio.to_thread(server_state(request).sessions.list, principal)
    return await render(request, "chat.html", principal, sessions=sessions, is_owner=principal.is_owner)


@router.get("/dashboard")
async def dashboard_page(principal: MaybePrincipal) -> Response:
    """The desk's old single page: its first view now."""
    return owner_only(principal) or RedirectResponse("/today", status_code=303)


def local_time(at: str | datetime | None, zone: ZoneInfo) -> str:
    """A time (ISO text or datetime) as the owner reads it on their own clock: 'Tue 8 Dec 09:26'."""
    if not at:
        return ""
    try:
        moment = at if isinstance(at, datetime) else datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}"
