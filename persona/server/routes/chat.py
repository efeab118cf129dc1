"""POST /api/chat: one message in, the twin's answer out as Server-Sent Events.

Events: `start` {session}, then `token` pieces of the answer, then `done` {session, blocked, text,
skill, asks, actions}; or `error` {message} when the LLM is down (the message itself is already in
the session). `actions` lists what the turn did or queued for the owner (`ShownAction`), where verdict
`needs_approval` means it waits in the owner's approvals under that id; the session keeps them with the answer.
The owner's answer streams as the model writes it. Anyone else's is sent whole, as one `token`,
after the guard has read it: unguarded tokens could carry owner-only details. `done` carries the
final text, which is what counts if it differs from the pieces (a fallback for an empty answer).
While the twin works without output, a comment line every `PING_SECONDS` keeps proxies from closing
the stream.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator

from fastapi import APIRouter, Request
from fastapi.responses import StreamingResponse
from pydantic import BaseModel, Field

from persona.agent.runner import Twin, TwinReply, thread_id
from persona.errors import PersonaError
from persona.events import ActionKind, Event, Verdict
from persona.server.auth import Chatter
from persona.server.state import ServerState, server_state
from persona.skills.turn import Done

router = APIRouter(tags=["chat"])

SESSION_PATTERN = r"^[A-Za-z0-9_-]{1,64}$"
PING_SECONDS = 15.0


class ChatIn(BaseModel):
    message: str = Field(min_length=1, max_length=4000)
    session: str | None = Field(
        default=None, pattern=SESSION_PATTERN, description="Omit to start a new session."
    )


class ShownAction(BaseModel):
    """An action an answer took or queued, as shown under it."""

    id: str  # with verdict needs_approval: the approval's id
    kind: ActionKind
    verdict: Verdict
    summary: str
    status: str = (
        ""  # read back by the owner later: the approval's status now (pending, executed, rejected...)
    )

    @classmethod
    def of(cls, done: Done, status: str = "") -> ShownAction:
        return cls(id=done.id, kind=done.kind, verdict=done.verdict, summary=done.summary, status=status)


# each event's `data` is JSON: {session} for start, a string for token, {session, blocked, text, skill, asks,
# actions} for done
_EVENT = {
    "type": "object",
    "required": ["event", "data"],
    "properties": {"event": {"enum": ["start", "token", "done", "error"]}, "data": {"type": "string"}},
}


@router.post(
    "/api/chat",
    response_class=StreamingResponse,
    responses={
        200: {
            "description": "The answer as Server-Sent Events: start, token..., then done or error.",
            "content": {"text/event-stream": {"itemSchema": _EVENT}},
        }
    },
)
async def chat(body: ChatIn, request: Request, principal: Chatter) -> StreamingResponse:
    """Send a message to the twin; the answer streams back as SSE."""
    state = server_state(request)
    twin = state.require_twin()
    session = body.session or uuid.uuid4().hex[:16]
    event = state.channel.event(
        principal, body.message.strip(), session, client=request.client.host if request.client else ""
    )
    twin.prefetch(event)
    await asyncio.to_thread(state.sessions.record, principal, session, event.text)
    return StreamingResponse(
        _with_pings(_answer(state, twin, event, session)),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},  # proxies must not buffer it
    )


def sse(event: str, data: object) -> bytes:
    return f"event: {event}\ndata: {json.dumps(data)}\n\n".encode()


async def _answer(state: ServerState, twin: Twin, event: Event, session: str) -> AsyncIterator[bytes]:
    yield sse("start", {"session": session})
    streamed = False
    try:
        async with state.session_lock(thread_id(event)):
            with state.metrics.turn():
                async for part in twin.stream(event):
                    if isinstance(part, TwinReply):
                        reply = part
                    else:
                        streamed = True
                        yield sse("token", part)
    except PersonaError as exc:  # headers are sent: the stream is the only way left to tell the user
        state.metrics.turn_errors.labels(type(exc).__name__).inc()
        message = f"{str(exc).rstrip('.')}. Your message is saved in this session; send it again later."
        yield sse("error", {"message": message, "session": session})
        return
    actions = [ShownAction.of(a).model_dump(mode="json", exclude={"status"}) for a in reply.actions]
    done = sse(
        "done",
        {
            "session": session,
            "blocked": bool(reply.blocked),
            "text": reply.text,
            "skill": reply.skill,
            "asks": reply.asks,
            "actions": actions,
        },
    )
    # one write for an answer sent whole: each write is a round of syscalls on both ends
    yield done if streamed else sse("token", reply.text) + done


async def _with_pings(parts: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """`parts` as they come, with an SSE comment whenever none came for PING_SECONDS. The parts are
    read by their own task: a timeout around reading them directly would cancel the twin's turn."""
    queue: asyncio.Queue[bytes | None] = asyncio.Queue()

    async def pump() -> None:
        try:
            async for part in parts:
                queue.put_nowait(part)
        finally:
            queue.put_nowait(None)

    task = asyncio.create_task(pump())
    try:
        while True:
            try:
                async with asyncio.timeout(PING_SECONDS):
                    part = await queue.get()
            except TimeoutError:
                yield b": ping\n\n"
                continue
            if part is None:
                break
            yield part
        await task  # its error, if it failed
    finally:
        task.cancel()
