"""The owner's Conversations: every chat the twin had, by person, newest first, with what the guard held back.

What was held back comes from the audit: the twin records each `guard_blocked` answer with its thread and
its place in it. The answer the guard stopped is never stored, only why (the topic, or the details cut).
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from fastapi import APIRouter, Path, Query, Request
from fastapi.responses import Response
from pydantic import BaseModel

from persona.agent.runner import thread_id
from persona.channels.chat import SessionInfo
from persona.events import Principal
from persona.server.auth import Owner
from persona.server.errors import NotFound
from persona.server.routes.chat import SESSION_PATTERN
from persona.server.routes.pages import MaybePrincipal, owner_only, render
from persona.server.routes.sessions import Turn, read_back
from persona.server.state import ServerState, server_state

router = APIRouter(tags=["conversations"])

BLOCKS_READ = 5000  # the newest guard_blocked audit entries read for the marks


class Person(BaseModel):
    address: str
    name: str
    role: str


class Conversation(SessionInfo):
    held_back: int  # answers the guard replaced or cut


class PersonConversations(BaseModel):
    person: Person
    conversations: list[Conversation]  # newest first


class TranscriptTurn(Turn):
    # `text` is what was said: for a held-back answer, what was said instead
    held_back: str = ""  # why the guard replaced or cut this answer


class Transcript(BaseModel):
    person: Person
    conversation: Conversation
    turns: list[TranscriptTurn]


def _person(principal: Principal) -> Person:
    return Person(address=principal.address, name=principal.name, role=principal.role.value)


def _held_back(state: ServerState) -> dict[str, dict[int, str]]:
    """Why each held-back answer was held back, by thread and turn."""
    held: dict[str, dict[int, str]] = defaultdict(dict)
    for entry in state.app.store.audit_entries(BLOCKS_READ, "guard_blocked"):
        if "thread" in entry.detail:  # entries written before threads were recorded cannot be placed
            held[entry.detail["thread"]][entry.detail["turn"]] = entry.detail["why"]
    return held


def _thread(state: ServerState, principal: Principal, session: str) -> str:
    return thread_id(state.channel.event(principal, "", session))


def everyone(state: ServerState) -> list[PersonConversations]:
    """All principals' sessions grouped by person; the person with the latest conversation first."""
    held = _held_back(state)
    groups: dict[str, PersonConversations] = {}
    for key, info in state.sessions.everyone():
        principal = Principal.resolve(state.app.profile, key)
        group = groups.setdefault(key, PersonConversations(person=_person(principal), conversations=[]))
        marks = held.get(_thread(state, principal, info.id), {})
        group.conversations.append(Conversation(**info.model_dump(), held_back=len(marks)))
    return list(groups.values())


async def transcript(state: ServerState, person: str, session: str) -> Transcript:
    principal = Principal.resolve(state.app.profile, person)
    info = await asyncio.to_thread(state.sessions.get, principal, session)
    if info is None:
        raise NotFound(f"no conversation {session!r} with {person}")
    said, held = await asyncio.gather(
        state.require_twin().history(state.channel.event(principal, "", session)),
        asyncio.to_thread(_held_back, state),
    )
    marks = held.get(_thread(state, principal, session), {})
    turns = await asyncio.to_thread(read_back, said, state.app.store)
    return Transcript(
        person=_person(principal),
        conversation=Conversation(**info.model_dump(), held_back=len(marks)),
        turns=[TranscriptTurn(**t.model_dump(), held_back=marks.get(i, "")) for i, t in enumerate(turns)],
    )


PersonQuery = Query(
    min_length=1, max_length=320, description="The address of the person the twin spoke with."
)
SessionPath = Path(pattern=SESSION_PATTERN)


@router.get("/api/conversations")
async def list_conversations(request: Request, _: Owner) -> list[PersonConversations]:
    return await asyncio.to_thread(everyone, server_state(request))


@router.get("/api/conversations/{session}")
async def get_conversation(
    request: Request, _: Owner, session: str = SessionPath, person: str = PersonQuery
) -> Transcript:
    return await transcript(server_state(request), person, session)


@router.get("/conversations", include_in_schema=False)
async def conversations_page(request: Request, principal: MaybePrincipal) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    groups = await asyncio.to_thread(everyone, server_state(request))
    return await render(request, "conversations.html", principal, groups=groups)


@router.get("/conversations/{session}", include_in_schema=False)
async def conversation_page(
    request: Request, principal: MaybePrincipal, session: str = SessionPath, person: str = PersonQuery
) -> Response:
    if (elsewhere := owner_only(principal)) is not None:
        return elsewhere
    shown = await transcript(server_state(request), person, session)
    return await render(request, "conversation.html", principal, transcript=shown)
