"""Memory search across every audience: the owner's view of what the twin knows."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request

from persona.memory.store import Hit
from persona.profile import Audience
from persona.server.auth import Owner
from persona.server.state import server_state

router = APIRouter(prefix="/api/memory", tags=["memory"])


@router.get("/search")
async def search(
    request: Request, _: Owner, q: str = Query(min_length=1, max_length=500), k: int = Query(8, ge=1, le=50)
) -> list[Hit]:
    memory = server_state(request).app.memory
    return await asyncio.to_thread(memory.search, q, list(Audience), k)
