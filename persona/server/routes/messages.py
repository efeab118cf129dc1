"""Messages people left with the twin for the owner: the "for you" list (owner only)."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Query, Request
from pydantic import BaseModel, Field

from persona.server.auth import Owner
from persona.server.state import server_state
from persona.store import MessageForOwner

router = APIRouter(prefix="/api/messages", tags=["messages"])


class ReadIn(BaseModel):
    ids: list[str] = Field(max_length=500)


@router.get("")
async def list_messages(
    request: Request, _: Owner, unread: bool = False, limit: int = Query(100, ge=1, le=1000)
) -> list[MessageForOwner]:
    """Newest first; with `unread=true` only those the owner has not read."""
    store = server_state(request).app.store
    return await asyncio.to_thread(store.messages, unread_only=unread, limit=limit)


@router.post("/read")
async def mark_read(body: ReadIn, request: Request, _: Owner) -> dict[str, int]:
    await asyncio.to_thread(server_state(request).app.store.mark_read, body.ids)
    return {"read": len(body.ids)}
