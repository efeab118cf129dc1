"""The audit log and today's activity (owner only)."""

from __future__ import annotations

import asyncio
from collections import Counter
from datetime import datetime

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from persona.app import App
from persona.server.auth import Owner
from persona.server.state import server_state
from persona.store import AuditCheck, AuditEntry

router = APIRouter(prefix="/api", tags=["audit"])


class Activity(BaseModel):
    day: str
    counts: dict[str, int]
    entries: list[AuditEntry]


def today_activity(app: App, scan: int = 2000) -> Activity:
    """Audit entries since midnight in the owner's time zone, newest first."""
    zone = app.profile.zone
    today = app.clock().astimezone(zone).date()
    entries = [
        e
        for e in app.store.audit_entries(limit=scan)
        if datetime.fromisoformat(e.ts).astimezone(zone).date() == today
    ]
    entries.reverse()
    return Activity(day=today.isoformat(), counts=dict(Counter(e.kind for e in entries)), entries=entries)


@router.get("/audit")
async def audit(
    request: Request, _: Owner, limit: int = Query(100, ge=1, le=1000), kind: str | None = None
) -> list[AuditEntry]:
    entries = await asyncio.to_thread(server_state(request).app.store.audit_entries, limit, kind)
    return entries[::-1]


@router.get("/audit/verify")
async def verify(request: Request, _: Owner) -> AuditCheck:
    return await asyncio.to_thread(server_state(request).app.store.verify_audit)


@router.get("/activity")
async def activity(request: Request, _: Owner) -> Activity:
    return await asyncio.to_thread(today_activity, server_state(request).app)
