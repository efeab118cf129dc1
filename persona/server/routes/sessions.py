"""A principal's own chat sessions: list them, read one back to resume it, each answer with what it did."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Path, Request
from pydantic import BaseModel

from persona.agent.runner import Said
from persona.channels.chat import SessionInfo
from persona.errors import PersonaError
from persona.server.auth import Caller
from persona.server.errors import NotFound
from persona.server.routes.chat import SESSION_PATTERN, ShownAction
from persona.server.state import server_state
from persona.store import StateStore

router = APIRouter(prefix="/api/sessions", tags=["sessions"])


class Turn(BaseModel):
    role: str  # "human" | "ai"
    text: str
    actions: list[ShownAction] = []  # under an answer: what it took or queued, as the chat showed it live


def read_back(said: list[Said], store: StateStore | None) -> list[Turn]:
    """A conversation as the chat shows it. With the owner's `store`, each queued action carries its
    approval's status now: something approved since no longer offers Approve."""

    def status(done_id: str) -> str:
        try:
            return store.get_approval(done_id).status if store is not None else ""
        except PersonaError:  # an approval removed since
            return ""

    return [
        Turn(
            role=s.role,
            text=s.text,
            actions=[ShownAction.of(a, status(a.id) if a.waits else "") for a in s.actions],
        )
        for s in said
    ]


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
    said = await state.require_twin().history(state.channel.event(principal, "", session_id))
    store = state.app.store if principal.is_owner else None  # others see what the chat showed them live
    return SessionOut(session=info, messages=await asyncio.to_thread(read_back, said, store))
