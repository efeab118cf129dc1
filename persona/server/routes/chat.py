"""POST /api/chat: one message in, the twin's answer out as Server-Sent Events.

Events: `start` {session}, then `token` pieces of the answer, then `done` {session, blocked, text};
or `error` {message} when the LLM is down (the message itself is already in the session).
The owner's answer streams as the model writes it. Anyone else's is sent whole, as one `token`,
after the guard has read it: unguarded tokens could carry owner-only details. `done` carries the
final text, which is what counts if it differs from the pieces (a fallback for an empty answer).
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.sse import EventSourceResponse, ServerSentEvent
from pydantic import BaseModel, Field

from persona.errors import PersonaError
from persona.server.auth import Chatter
from persona.server.state import server_state
from persona.twin.runner import TwinReply, thread_id

router = APIRouter(tags=["chat"])

SESSION_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=4000)
    session: str | None = Field(
        default=None, pattern=SESSION_PATTERN, description="Omit to start a new session."
    )


@router.post("/api/chat", response_class=EventSourceResponse)
async def chat(body: ChatIn, request: Request, principal: Chatter) -> AsyncIterator[ServerSentEvent]:
    """Send a message to the twin; the answer streams back as SSE."""
    state = server_state(request)
    twin = state.require_twin()
    session = body.session or uuid.uuid4().hex[:16]
    event = state.channel.event(
        principal, body.message.strip(), session, client=request.client.host if request.client else ""
    )
    await asyncio.to_thread(state.sessions.record, principal, session, event.text)
    yield ServerSentEvent(event="start", data={"session": session})
    streamed = False
    try:
        async with state.session_lock(thread_id(event)):
            with state.metrics.turn():
                async for part in twin.stream(event):
                    if isinstance(part, TwinReply):
                        reply = part
                    else:
                        streamed = True
                        yield ServerSentEvent(event="token", data=part)
    except PersonaError as exc:  # headers are sent: the stream is the only way left to tell the user
        state.metrics.turn_errors.labels(type(exc).__name__).inc()
        message = f"{str(exc).rstrip('.')}. Your message is saved in this session; send it again later."
        yield ServerSentEvent(event="error", data={"message": message, "session": session})
        return
    if not streamed:
        yield ServerSentEvent(event="token", data=reply.text)
    yield ServerSentEvent(event="done", data={"session": session, "blocked": bool(reply.blocked), "text": reply.text})
