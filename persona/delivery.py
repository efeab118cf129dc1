"""Opening the channel that carries out an approved Action, for the CLI and the server alike."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from persona.app import App
from persona.events import ActionKind

MAIL_KINDS = {ActionKind.SAVE_DRAFT, ActionKind.SEND_MAIL}
CALENDAR_KINDS = {ActionKind.CREATE_EVENT, ActionKind.MOVE_EVENT, ActionKind.CANCEL_EVENT}


@contextmanager
def delivering(app: App, kind: ActionKind) -> Iterator[None]:
    """While open, the gate can execute `kind`: its channel is connected and its executors registered
    (unless something already delivers that kind, e.g. a channel the server keeps open)."""
    if kind in app.gate.executors:
        yield
        return
    if kind in MAIL_KINDS:
        from persona.inbox import open_email_channel

        channel = open_email_channel(app)
        try:
            yield
        finally:
            channel.stop()
        return
    if kind in CALENDAR_KINDS:
        from persona.channels.calendar.delivery import register_executors

        register_executors(app)
    yield
