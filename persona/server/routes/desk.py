"""The owner's desk: Today, Approvals (waiting, history, one approval), Memory, Activity and the persona's YAML.

Pages only read; every change goes through the JSON API the pages call (approvals, messages, persona).
"""

from __future__ import annotations

import asyncio
from datetime import datetime
from typing import Literal
from zoneinfo import ZoneInfo

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response

from persona.approval_detail import approval_detail
from persona.errors import PersonaError
from persona.memory import catalog
from persona.server.routes.audit import today_activity
from persona.server.routes.pages import MaybePrincipal, owner_only, render
from persona.server.routes.persona import read_persona
from persona.server.state import server_state
from persona.skills.brief import latest_brief

router = APIRouter(include_in_schema=False)

MESSAGES_SHOWN = 100  # unread messages for the owner on Today, newest first
DECISIONS_SHOWN = 8  # the oldest waiting approvals on Today; the rest are a click away
HISTORY_SHOWN = 200  # decided approvals on the history view, newest first
AUDIT_SHOWN = 200  # audit entries on the Activity view, newest first


@router.get("/today")
async def today_page(request: Request, principal: MaybePrincipal) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    app = server_state(request).app
    approvals, waiting, activity, messages, brief = await asyncio.gather(
        asyncio.to_thread(app.store.approvals, "pending", DECISIONS_SHOWN),
        asyncio.to_thread(app.store.count_approvals, "pending"),
        asyncio.to_thread(today_activity, app),
        asyncio.to_thread(app.store.messages, unread_only=True, limit=MESSAGES_SHOWN),
        asyncio.to_thread(latest_brief, app),
    )
    return await render(
        request,
        "today.html",
        principal,
        waiting=waiting,
        approvals=approvals,
        activity=activity,
        messages=messages,
        brief=brief,
        now=app.clock().astimezone(app.profile.zone),
    )


@router.get("/approvals")
async def approvals_page(
    request: Request, principal: MaybePrincipal, show: Literal["waiting", "history"] = "waiting"
) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    store = server_state(request).app.store
    if show == "waiting":
        items = await asyncio.to_thread(store.approvals, "pending")
    else:
        items = await asyncio.to_thread(store.decided_approvals, HISTORY_SHOWN)
    return await render(request, "approvals.html", principal, approvals=items, show=show)


@router.get("/approvals/{approval_id}")
async def approval_page(
    request: Request, principal: MaybePrincipal, approval_id: str = Path(max_length=64)
) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    app = server_state(request).app
    try:
        detail = await asyncio.to_thread(approval_detail, app, approval_id)
    except PersonaError as exc:
        return await render(request, "missing.html", principal, message=str(exc), status_code=404)
    zone = app.profile.zone
    times = [f for f in detail.editable if f.input == "datetime"]
    # datetime-local inputs hold the owner's wall clock; the server reads a time without a zone as theirs
    return await render(
        request,
        "approval.html",
        principal,
        detail=detail,
        a=detail.approval,
        local_inputs={f.name: _local_input(f.value, zone) for f in times},
        local_choices={
            f.name: [(c.label, _local_input(c.start, zone), _local_input(c.end, zone)) for c in f.choices]
            for f in times
        },
    )


def _local_input(iso: str, zone: ZoneInfo) -> str:
    """An ISO time as a datetime-local input holds it: the owner's wall clock, to the minute."""
    return f"{datetime.fromisoformat(iso).astimezone(zone):%Y-%m-%dT%H:%M}"


@router.get("/activity")
async def activity_page(
    request: Request, principal: MaybePrincipal, kind: str | None = Query(None, max_length=40)
) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    store = server_state(request).app.store
    entries, kinds = await asyncio.gather(
        asyncio.to_thread(store.audit_entries, AUDIT_SHOWN, kind or None),
        asyncio.to_thread(store.audit_kinds),
    )
    return await render(
        request, "activity.html", principal, entries=entries[::-1], kind=kind or "", kinds=kinds
    )


@router.get("/memory")
async def memory_page(request: Request, principal: MaybePrincipal) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    sources = await asyncio.to_thread(catalog.sources, server_state(request).app.memory)
    return await render(request, "memory.html", principal, sources=sources)


@router.get("/persona")
async def persona_page(request: Request, principal: MaybePrincipal) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    persona = await asyncio.to_thread(read_persona, server_state(request).app)
    return await render(request, "persona.html", principal, persona_yaml=persona.yaml)
