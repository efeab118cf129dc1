"""Signed-in requests first: anyone not signed in is served at most WIDTH at a time.

All requests share one event loop, served in the order they arrive. A flood of sign-ins or junk
(each ~1 ms of Python to refuse, 64 in flight) put ~100 ms of other people's work in front of each of
the owner's requests. Here a request with a live browser session or a bearer token verified lately
goes straight on; any other waits for one of WIDTH places, waiting costs no CPU, and at most
MAX_WAITING wait (more is a 429 at once, so a flood cannot hold connections and their buffers).
"""

from __future__ import annotations

import asyncio
from weakref import WeakKeyDictionary

from fastapi.responses import JSONResponse
from starlette.datastructures import Headers
from starlette.requests import cookie_parser
from starlette.types import ASGIApp, Receive, Scope, Send

from persona.server.auth import SESSION_COOKIE
from persona.server.state import ServerState

WIDTH = 4
MAX_WAITING = 256


class SignedInFirst:
    def __init__(self, app: ASGIApp, state: ServerState):
        self.app = app
        self.state = state
        # per event loop: a test may serve one app from two loops, and a semaphore belongs to one
        self._places: WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Semaphore] = WeakKeyDictionary()
        self._waiting = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or self._signed_in(Headers(scope=scope)):
            await self.app(scope, receive, send)
            return
        if self._waiting >= MAX_WAITING:
            busy = JSONResponse({"error": "the server is busy; try again in 1 s"}, 429, {"Retry-After": "1"})
            await busy(scope, receive, send)
            return
        places = self._places.setdefault(asyncio.get_running_loop(), asyncio.Semaphore(WIDTH))
        self._waiting += 1
        try:
            await places.acquire()
        finally:
            self._waiting -= 1
        try:
            await self.app(scope, receive, send)
        finally:
            places.release()

    def _signed_in(self, headers: Headers) -> bool:
        """A cheap look (one indexed read), not the check: the routes still decide who it is."""
        header = headers.get("authorization", "")
        if header.lower().startswith("bearer "):
            return self.state.verifier.remembered(header[7:].strip()) is not None
        session = cookie_parser(headers.get("cookie", "")).get(SESSION_COOKIE)
        return bool(session) and self.state.web_sessions.record(session) is not None
