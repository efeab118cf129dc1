"""What the routes share for the life of one server: the App, the open Twin, tokens, sessions, limits, metrics."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from pathlib import Path
from weakref import WeakValueDictionary

from fastapi import Request
from fastapi.templating import Jinja2Templates
from limits.storage import MemoryStorage

from persona.agent.runner import Twin
from persona.app import App
from persona.channels.chat import ChatChannel, SessionIndex
from persona.errors import NotReady
from persona.server.config import ServerConfig
from persona.server.metrics import Metrics
from persona.server.ratelimit import Limit
from persona.server.tokens import TokenStore
from persona.server.verifier import TokenVerifier
from persona.server.web_sessions import WebSessions


@dataclass
class ServerState:
    app: App
    config: ServerConfig
    tokens: TokenStore
    verifier: TokenVerifier
    web_sessions: WebSessions
    sessions: SessionIndex
    channel: ChatChannel
    metrics: Metrics
    counters: MemoryStorage  # every limit's, expiring with their windows
    chat_limit: Limit
    api_limit: Limit
    owner_api_limit: Limit
    templates: Jinja2Templates
    twin: Twin | None = None
    # One turn at a time per conversation, so a session's history never interleaves.
    _locks: WeakValueDictionary[str, asyncio.Lock] = field(default_factory=WeakValueDictionary)

    @classmethod
    def build(cls, app: App, config: ServerConfig) -> ServerState:
        limits, counters = app.settings.limits, MemoryStorage()
        tokens = TokenStore(app.home.state_db, clock=app.clock)
        by_address = Limit(limits.signin_failures_per_address, counters, "failed sign-ins from this address")
        by_token = Limit(limits.signin_failures_per_token, counters, "failed sign-ins for this token")
        return cls(
            app=app,
            config=config,
            tokens=tokens,
            verifier=TokenVerifier(tokens, by_address, by_token),
            web_sessions=WebSessions(tokens, limits.session_days),
            sessions=SessionIndex(app.home.state_db, app.clock),
            channel=ChatChannel(),
            metrics=Metrics(app),
            counters=counters,
            chat_limit=Limit(limits.chat_limit, counters, "chat messages"),
            api_limit=Limit(limits.api_limit, counters),
            owner_api_limit=Limit(limits.owner_api_limit, counters),
            templates=Jinja2Templates(directory=Path(__file__).parent / "templates"),
        )

    def require_twin(self) -> Twin:
        if self.twin is None:
            raise NotReady("the twin is still starting; try again in a moment")
        return self.twin

    def session_lock(self, thread: str) -> asyncio.Lock:
        lock = self._locks.get(thread)
        if lock is None:
            lock = self._locks[thread] = asyncio.Lock()
        return lock

    def reload_profile(self) -> None:
        """After the owner edits the persona: read it again and rebuild what captured it."""
        self.app.reload_profile()
        self.follow_profile()

    def follow_profile(self) -> None:
        """Before each request: persona.yaml as another process left it (App.follow_profile; a scheduled
        job may have read it first), and a twin whose graph holds that profile."""
        self.app.follow_profile()
        if self.twin is not None and self.twin.profile is not self.app.profile:
            self.twin = Twin(self.app, self.twin.graph.checkpointer)


def server_state(request: Request) -> ServerState:
    return request.app.state.persona
