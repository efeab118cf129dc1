"""The owner's view of memory: search across every audience, its sources, and forgetting (owner only)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel

from persona.memory import catalog
from persona.memory import forget as forgetting
from persona.memory.catalog import MemoryHit, SourceSummary
from persona.profile import Audience
from persona.server.auth import Owner
from persona.server.state import server_state

router = APIRouter(prefix="/api/memory", tags=["memory"])


class Forgotten(BaseModel):
    removed: int


@router.get("/search")
async def search(
    request: Request, _: Owner, q: str = Query(min_length=1, max_length=500), k: int = Query(8, ge=1, le=50)
) -> list[MemoryHit]:
    """The best `k` items for `q`, each text of a source once, with where and when it came from."""
    memory = server_state(request).app.memory
    return await asyncio.to_thread(catalog.search, memory, q, list(Audience), k)


@router.get("/sources")
async def sources(request: Request, _: Owner) -> list[SourceSummary]:
    return await asyncio.to_thread(catalog.sources, server_state(request).app.memory)


@router.delete("/items/{item_id}")
async def forget_item(item_id: str, request: Request, _: Owner) -> Forgotten:
    app = server_state(request).app
    chosen = await asyncio.to_thread(forgetting.select_item, app.memory, item_id)
    return Forgotten(removed=await asyncio.to_thread(forgetting.forget, app.memory, app.store, chosen))


@router.delete("/sources")
async def forget_source(
    request: Request, _: Owner, source: str = Query(min_length=1, max_length=4096)
) -> Forgotten:
    """Every item of the source as `GET /api/memory/sources` lists it, or of a folder holding it."""
    app = server_state(request).app
    chosen = await asyncio.to_thread(forgetting.select_source, app.memory, source)
    return Forgotten(removed=await asyncio.to_thread(forgetting.forget, app.memory, app.store, chosen))
