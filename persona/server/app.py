"""The FastAPI factory. The lifespan opens the Twin; other long-lived parts (the scheduler) join it
through `lifespan_hooks`, each an async context manager factory given the App and the ServerState."""

from __future__ import annotations

import asyncio
import gc
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import AbstractAsyncContextManager, AsyncExitStack, asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response

from persona.agent.runner import Twin
from persona.app import App
from persona.errors import InvalidEdit, PersonaError
from persona.events import ActionKind
from persona.profile import Audience
from persona.server.config import ServerConfig
from persona.server.follow import FollowProfile
from persona.server.lanes import SignedInFirst
from persona.server.limits import BodyLimit
from persona.server.metrics import MetricsMiddleware
from persona.server.routes import ROUTERS
from persona.server.state import ServerState

# A turn hands work to threads (the memory search, SQLite writes), and each must take the GIL back to go
# on. A thread waiting for it gets it when the running one blocks, or after this long: CPython's default
# 5 ms stalled a search for a millisecond of Python in another session's turn several times over.
SWITCH_INTERVAL = 0.001

LifespanHook = Callable[[App, ServerState], AbstractAsyncContextManager[None]]

_MAX_ERRORS = 20  # a list of a million bad items is one body, not a million errors


def _persona_error(_: Request, exc: Exception) -> Response:
    """Every user-facing error: its class's status code (persona.errors) and its one-line message."""
    assert isinstance(exc, PersonaError)  # registered for PersonaError only
    body = {"error": str(exc)} | ({"field": exc.field} if isinstance(exc, InvalidEdit) else {})
    return JSONResponse(body, status_code=exc.http_status, headers=exc.http_headers())


def _invalid_request(_: Request, exc: RequestValidationError) -> Response:
    """422 naming what is wrong, without FastAPI's echo of the input: a 5 MB message came back whole, and
    a lone surrogate (\\ud800), which JSON allows and no response can encode, turned it into a 500."""
    detail = [{"type": e["type"], "loc": e["loc"], "msg": e["msg"][:200]} for e in exc.errors()[:_MAX_ERRORS]]
    return JSONResponse({"detail": detail}, status_code=422)


def _warm_up(app: App) -> None:
    """Load the embedding model, memory and LLM now; loading them inside a turn would stall it for seconds."""
    app.memory.keep_vectors_in_memory()  # a server searches all day: a Chroma query costs it 3-5 ms of CPU
    app.memory.search("warm up", [Audience.PUBLIC], k=1)
    app.llm  # noqa: B018 - may start the local model server
    # The ~600k objects loaded so far (torch, transformers, chromadb) live as long as the process;
    # left to the collector, each full collection walks them all and stalls every turn for ~0.5 s.
    gc.collect()
    gc.freeze()


def create_app(
    app: App, *, config: ServerConfig | None = None, lifespan_hooks: Sequence[LifespanHook] = ()
) -> FastAPI:
    state = ServerState.build(app, config or ServerConfig())

    @asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        app.profile  # noqa: B018 - a broken profile fails the start, not the first request
        if state.config.warm_up:
            await asyncio.to_thread(_warm_up, app)
        async with AsyncExitStack() as stack:
            stack.enter_context(app.gate.executors.while_open({ActionKind.REPLY_CHAT: state.channel.deliver}))
            stack.callback(sys.setswitchinterval, sys.getswitchinterval())
            sys.setswitchinterval(SWITCH_INTERVAL)
            state.twin = await stack.enter_async_context(Twin.open(app))
            for hook in lifespan_hooks:
                await stack.enter_async_context(hook(app, state))
            try:
                yield
            finally:
                state.twin = None

    api = FastAPI(
        title="persona-twin",
        summary="Chat with the twin; the owner's approvals, audit, memory and persona.",
        lifespan=lifespan,
    )
    api.state.persona = state
    api.add_exception_handler(PersonaError, _persona_error)
    api.add_exception_handler(RequestValidationError, _invalid_request)
    api.add_middleware(FollowProfile, state=state)  # inside the line: a flood does not stat the file
    api.add_middleware(SignedInFirst, state=state)
    api.add_middleware(
        BodyLimit, max_bytes=app.settings.limits.max_request_bytes
    )  # before the line: a 413 never waits
    api.add_middleware(MetricsMiddleware, metrics=state.metrics)  # outermost: it counts the 413s too
    for router in ROUTERS:
        api.include_router(router)
    return api
