"""Helpers of the scheduler tests: an App with a scripted model, a movable clock, mail delivery."""

from __future__ import annotations

import mailbox
from collections.abc import Callable
from datetime import datetime, timedelta
from email.message import EmailMessage
from email.utils import format_datetime

from persona.app import App
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import Reply, ScriptedChatModel
from persona.memory.embedding import Embedder
from persona.settings import Settings


class Clock:
    """A clock the test moves by hand: the App reads it, nothing sleeps."""

    def __init__(self, now: datetime):
        self.now = now

    def __call__(self) -> datetime:
        return self.now

    def advance(self, **delta: float) -> None:
        self.now += timedelta(**delta)


def scripted_app(
    home: Home, replies: list[Reply], clock: Callable[[], datetime], embedder: Embedder | None = None
) -> tuple[App, ScriptedChatModel]:
    """An App whose LLM plays `replies`; with `embedder`, memory reuses an already loaded model."""
    model = ScriptedChatModel(replies=list(replies))
    app = App(home, Settings(), llm=LLM(model, local=True), clock=clock)
    if embedder is not None:
        app.__dict__["embedder"] = embedder  # App.embedder is a cached_property: seed it
    return app, model


def deliver(home: Home, sender: str, subject: str, body: str, message_id: str, when: datetime) -> None:
    """Put a mail into the home's Maildir inbox, as a delivery agent would."""
    msg = EmailMessage()
    msg["From"], msg["To"], msg["Subject"] = sender, "dana@northwind.example", subject
    msg["Message-ID"], msg["Date"] = message_id, format_datetime(when)
    msg.set_content(body)
    mailbox.Maildir(home.mail_dir, create=True).add(msg)


def persona_cli():
    """The `persona` command with this package's commands registered once (as `main()` will do)."""
    from persona.cli import _register, cli
    from persona.cli import scheduler as scheduler_cli

    if not any(c.name == "usage" for c in cli.registered_commands):
        _register()
        if not any(c.name == "usage" for c in cli.registered_commands):
            scheduler_cli.register(cli)
    return cli
