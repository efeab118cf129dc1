"""Server-rendered pages: sign-in, the chat (the owner's and others'), the dashboard. No front-end build."""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Annotated
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response

from persona.events import Principal
from persona.server.auth import optional_principal
from persona.server.errors import Unauthorized
from persona.server.routes.audit import today_activity
from persona.server.routes.persona import read_persona
from persona.server.state import server_state
from persona.skills.prompt import first_name

router = APIRouter(include_in_schema=False)

MESSAGES_SHOWN = 100  # unread messages for the owner on the dashboard, newest first

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


async def render(request: Request, name: str, principal: Principal | None = None, **context: object) -> HTMLResponse:
    """A page of `name` for `principal`; the owner's pages carry the desk's navigation and the count of
    what waits for approval."""
    app = server_state(request).app
    waiting = 0
    if principal is not None and principal.is_owner:
        waiting = await asyncio.to_thread(app.store.count_approvals, "pending")
    return _render(request, name, principal=principal, desk_views=DESK_VIEWS, view=request.url.path,
                   waiting=waiting, **context)


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


@router.get("/today")
async def today_page(request: Request, principal: MaybePrincipal) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    app = server_state(request).app
    approvals, activity, audit, persona, messages = await asyncio.gather(
        asyncio.to_thread(app.store.approvals, "pending"),
        asyncio.to_thread(today_activity, app),
        asyncio.to_thread(app.store.audit_entries, 50),
        asyncio.to_thread(read_persona, app),
        asyncio.to_thread(app.store.messages, unread_only=True, limit=MESSAGES_SHOWN),
    )
    return await render(
        request,
        "dashboard.html",
        principal,
        approvals=approvals,
        activity=activity,
        audit=audit[::-1],
        persona_yaml=persona.yaml,
        messages=[(m, _when(m.at, app.profile.zone)) for m in messages],
    )


def _when(at: str, zone: ZoneInfo) -> str:
    """An ISO time as the owner reads it on their own clock: 'Tue 8 Dec 09:26'."""
    try:
        moment = datetime.fromisoformat(at)
    except ValueError:
        return at
    if moment.tzinfo is not None:
        moment = moment.astimezone(zone)
    return f"{moment:%a} {moment.day} {moment:%b %H:%M}"
