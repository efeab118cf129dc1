"""Which channel carries out each kind of Action, opened on demand, for the skills, the CLI and the server.

Actions that stay in the home (a message for the owner, a note, a triage correction, the brief) are
carried out by the App's own executors and are always there; a mail or calendar action needs its channel
open, and its executors leave the gate when the channel closes.
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
    """While open, the gate can execute `kind`: its channel is connected and its executors on the gate
    (unless this thread already delivers that kind, e.g. a channel open around this block; one another
    thread opened may close under it, so it is not borrowed). On leaving, a channel opened here is closed
    and its executors are gone."""
    if app.gate.executors.opened_here(kind) is not None:
        yield
    elif kind in MAIL_KINDS:
        from persona.channels.email.delivery import delivering_mail

        with delivering_mail(app):
            yield
    elif kind in CALENDAR_KINDS:
        from persona.channels.calendar.delivery import executors

        with app.gate.executors.while_open(executors(app.calendar)):
            yield
    else:
        yield


def carried_out(app: App, approval_id: str, carry_out: Callable[[], T]) -> T:
    """`carry_out` (an approval or retry of `approval_id`) with the channel of its action open."""
    with delivering(app, app.store.get_approval(approval_id).action.kind):
        return carry_out()
