"""The owner's view of memory: search across every audience, its sources, and forgetting (owner only)."""

from __future__ import annotations

import asyncio
from datetime import date

from fastapi import APIRouter, Path, Query, Request
from pydantic import BaseModel

from persona.memory import catalog
from persona.memory import forget as forgetting
from persona.memory.catalog import MemoryHit, SourceSummary
from persona.memory.forget import Selection
from persona.memory.store import MemoryStore
from persona.profile import Audience
from persona.server.auth import Owner
from persona.server.errors import InvalidInput
from persona.server.state import server_state

router = APIRouter(prefix="/api/memory", tags=["memory"])


class Forgotten(BaseModel):
    removed: int


class Chosen(BaseModel):
    items: int  # how many the DELETE of the same path and query would remove: what the desk asks about first


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


def _dated(memory: MemoryStore, before: date | None, since: date | None) -> Selection:
    if before is None and since is None:
        raise InvalidInput("give `before` or `since` (YYYY-MM-DD), or both")
    if before is not None and since is not None and since >= before:
        raise InvalidInput("`since` must be a day before `before`")
    return forgetting.select_dated(memory, before=before, since=since)


@router.get("/dated")
async def count_dated(
    request: Request, _: Owner, before: date | None = None, since: date | None = None
) -> Chosen:
    """How many items are dated before `before` and on or after `since`."""
    chosen = await asyncio.to_thread(_dated, server_state(request).app.memory, before, since)
    return Chosen(items=len(chosen.ids))


@router.delete("/dated")
async def forget_dated(
    request: Request, _: Owner, before: date | None = None, since: date | None = None
) -> Forgotten:
    """Every item dated before `before` and on or after `since` (by the document's own day); undated ones stay."""
    app = server_state(request).app
    chosen = await asyncio.to_thread(_dated, app.memory, before, since)
    return Forgotten(removed=await asyncio.to_thread(forgetting.forget, app.memory, app.store, chosen))


@router.get("/runs/{run}")
async def count_run(request: Request, _: Owner, run: str = Path(max_length=64)) -> Chosen:
    """How many items the ingest run `run` added (its id as `persona ingest` printed it)."""
    chosen = await asyncio.to_thread(forgetting.select_run, server_state(request).app.memory, run)
    return Chosen(items=len(chosen.ids))


@router.delete("/runs/{run}")
async def forget_run(request: Request, _: Owner, run: str = Path(max_length=64)) -> Forgotten:
    """Every item the ingest run `run` added, one cut off midway too."""
    app = server_state(request).app
    chosen = await asyncio.to_thread(forgetting.select_run, app.memory, run)
    return Forgotten(removed=await asyncio.to_thread(forgetting.forget, app.memory, app.store, chosen))
