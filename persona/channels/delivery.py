"""Which channel carries out each kind of Action, opened on demand, for the skills, the CLI and the server.

Actions that stay in the home (a message for the owner, a note, a triage correction) are carried out by
the App's own executors and are always registered; mail and calendar actions need their channel open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from persona.events import ActionKind

if TYPE_CHECKING:
    from persona.app import App

T = TypeVar("T")
MAIL_KINDS = {ActionKind.SAVE_DRAFT, ActionKind.SEND_MAIL, ActionKind.FORWARD_MAIL}
CALENDAR_KINDS = {ActionKind.CREATE_EVENT, ActionKind.MOVE_EVENT, ActionKind.CANCEL_EVENT}


@contextmanager
def delivering(app: App, kind: ActionKind) -> Iterator[None]:
    """While open, the gate can execute `kind`: its channel is connected and its executors registered
    (unless something already delivers that kind, e.g. a channel the server keeps open)."""
    if kind in app.gate.executors:
        yield
        return
    if kind in MAIL_KINDS:
        from persona.channels.email.delivery import open_email_channel

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


def carried_out(app: App, approval_id: str, carry_out: Callable[[], T]) -> T:
    """`carry_out` (an approval or retry of `approval_id`) with the channel of its action open."""
    with delivering(app, app.store.get_approval(approval_id).action.kind):
        return carry_out()
