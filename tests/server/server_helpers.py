"""A twin home with two colleagues, memory with owner-only and team facts, and a server around it.

One App and one server per test module: loading the embedding model and Chroma takes seconds, so
tests change the scripted model's replies instead of building a new twin each time.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import limits.storage.memory
import limits.strategies
import pytest
import uvicorn
from fastapi import FastAPI
from fastapi.testclient import TestClient

from persona.app import App
from persona.events import Action, ActionKind, Principal, Provenance
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.memory.store import MemoryItem
from persona.profile import Audience, Profile, save_profile
from persona.server import ServerConfig, create_app
from persona.settings import Settings

OWNER_SECRET = "Offer from Helix Robotics: EUR 212,400 base, answer by 2026-12-04"
TEAM_FACT = "The Postgres 16 cutover is planned for 2026-12-08 at 06:00 CET."

SERVER_PROFILE = {
    "owner": {
        "name": "Dana Reyes",
        "emails": ["dana@northwind.example"],
        "role": "Engineering lead",
        "organization": "Northwind",
        "timezone": "Europe/Berlin",
    },
    "people": [
        {"name": "Sam Okafor", "emails": ["sam@northwind.example"], "role": "colleague"},
        {"name": "Lee Park", "emails": ["lee@northwind.example"], "role": "colleague"},
        {"name": "Kim Vendor", "emails": ["kim@vendor.example"], "role": "contact"},
    ],
    "boundaries": [{"topic": "compensation", "keywords": ["salary", "compensation", "raise"]}],
}


def echo_everything(messages) -> str:
    """A maximally leaky model: repeats every word of every prompt message."""
    return "\n".join(str(m.content) for m in messages)


def new_home(root: Path) -> Home:
    home = Home(root).ensure()
    save_profile(Profile.model_validate(SERVER_PROFILE), home.profile_path)
    return home


def new_app(
    home: Home, llm: LLM | None = None, settings: Settings | None = None
) -> tuple[App, ScriptedChatModel]:
    model = ScriptedChatModel()
    app = App(home, settings or Settings(), llm=llm or LLM(model, local=True))
    app.memory.add(
        [
            MemoryItem.make(OWNER_SECRET, "knowledge", Audience.OWNER, subject="job offer"),
            MemoryItem.make(TEAM_FACT, "knowledge", Audience.TEAM, subject="pg16 migration"),
        ]
    )
    return app, model


def held_for_owner(
    app: App, asker: str, kind: ActionKind, payload: dict[str, Any], summary: str = ""
) -> Action:
    """An action `asker` asked for, to them, its content from their words: submitted to the gate, which holds it
    for the owner's approval."""
    who = Principal.resolve(app.profile, asker)
    action = Action(
        kind=kind,
        requested_by=who,
        targets=[asker],
        target_provenance=[Provenance.of(who)],
        payload_provenance=[Provenance.of(who)],
        payload=payload,
        summary=summary,
    )
    assert app.gate.submit(action).decision.verdict.value == "needs_approval"
    return action


@dataclass
class Served:
    """The server under test and the handles a test needs."""

    api: FastAPI
    app: App
    model: ScriptedChatModel
    client: TestClient
    tokens: dict[str, str]  # principal name -> token ("stranger" has none)

    def headers(self, who: str) -> dict[str, str]:
        token = self.tokens.get(who)
        return {"Authorization": f"Bearer {token}"} if token else {}

    def chat(self, who: str, message: str, session: str | None = None) -> list[tuple[str, object]]:
        """Send one chat message; the SSE events as (event, data) pairs."""
        import json

        body = {"message": message} | ({"session": session} if session else {})
        with self.client.stream("POST", "/api/chat", json=body, headers=self.headers(who)) as response:
            assert response.status_code == 200, response.read()
            text = response.read().decode()
        events = []
        for frame in text.strip().split("\n\n"):
            if frame.startswith(":"):  # a comment: the keepalive while the twin works
                events.append(("comment", frame[1:].strip()))
                continue
            fields = dict(line.split(": ", 1) for line in frame.splitlines() if ": " in line)
            events.append((fields.get("event", "message"), json.loads(fields["data"])))
        return events


def issue_tokens(api: FastAPI) -> dict[str, str]:
    tokens = api.state.persona.tokens
    revoked = tokens.issue("invite", "kim@vendor.example")
    tokens.revoke("kim@vendor.example")
    return {
        "owner": tokens.issue("owner"),
        "colleague_a": tokens.issue("invite", "sam@northwind.example"),
        "colleague_b": tokens.issue("invite", "lee@northwind.example"),
        "revoked": revoked,
    }


@contextmanager
def running_twin(
    home: Home, config: ServerConfig | None = None, llm: LLM | None = None, settings: Settings | None = None
) -> Iterator[Served]:
    app, model = new_app(home, llm, settings)
    api = create_app(app, config=config)
    tokens = issue_tokens(api)
    with TestClient(api, base_url="http://127.0.0.1") as client:
        yield Served(api=api, app=app, model=model, client=client, tokens=tokens)


@contextmanager
def uvicorn_on_loopback(api: FastAPI) -> Iterator[str]:
    """The real HTTP stack: uvicorn on an ephemeral loopback port, in a thread; yields the base URL."""
    server = uvicorn.Server(uvicorn.Config(api, host="127.0.0.1", port=0, log_level="warning", lifespan="on"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("uvicorn did not start")
        thread.join(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(30)


def answering(text: str):
    """A scripted reply for whichever call a chat turn makes: the pick of the memory answer when the
    twin asks the model to route the message, else `text`."""

    def reply(messages) -> str:
        routing = "route messages" in str(messages[0].content)
        return '{"skill": "recall"}' if routing else text

    return reply


class LimitsClock:
    """The rate limits' clock, moved by hand: the `limits` library reads time.time().
    It starts a minute into the next hour, so a test's windows never straddle the turn of a minute or hour
    (the sliding windows weigh the previous one's count by how much of it is left)."""

    def __init__(self) -> None:
        self.now = (time.time() // 3600 + 1) * 3600 + 60

    def time(self) -> float:
        return self.now


def limits_clock(monkeypatch: pytest.MonkeyPatch) -> LimitsClock:
    clock = LimitsClock()
    for module in (limits.storage.memory, limits.strategies):
        monkeypatch.setattr(module, "time", clock)
    return clock
