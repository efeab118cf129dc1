"""A principal's own chat sessions: list them, read one back to resume it."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from persona.channels.chat import SessionInfo
from persona.server.auth import Caller
from persona.server.errors import NotFound
from persona.server.routes.chat import SESSION_PATTERN
from persona.server.state import server_state

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class Turn(BaseModel):
    role: str  # "human" | "ai"
    text: str


class SessionOut(BaseModel):
    session: SessionInfo
    messages: list[Turn]


@router.get("")
async def list_sessions(request: Request, principal: Caller) -> list[SessionInfo]:
    return await asyncio.to_thread(server_state(request).sessions.list, principal)


@router.get("/{session_id}")
async def get_session(
    request: Request, principal: Caller, session_id: str = Path(pattern=SESSION_PATTERN)
) -> SessionOut:
    state = server_state(request)
    info = await asyncio.to_thread(state.sessions.get, principal, session_id)
    if info is None:
        raise NotFound(f"no session {session_id!r}")
    history = await state.require_twin().history(state.channel.event(principal, "", session_id))
    return SessionOut(session=info, messages=[Turn(role=r, text=t) for r, t in history])
