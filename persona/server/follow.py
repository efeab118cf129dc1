"""What another process changed, taken up by a running server before each request.

The persona (`persona.yaml`, edited in an editor or by a `persona` command) is checked with one stat
and read again when it changed (`App.follow_profile`). Memory follows by itself: a search first brings
embedded Chroma up to date with another process's ingest or forget (`MemoryStore._caught_up`). The
calendar is read from its files (or CalDAV server) on every use.
"""

from __future__ import annotations

from starlette.types import ASGIApp, Receive, Scope, Send

from persona.server.state import ServerState


class FollowProfile:
    def __init__(self, app: ASGIApp, state: ServerState):
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            self.state.follow_profile()
        await self.app(scope, receive, send)
