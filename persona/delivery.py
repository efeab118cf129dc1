"""Which channel carries out each kind of Action, for the CLI and the server alike.

Actions that stay in the home (a message for the owner, a note, a triage correction) are carried out
by the home itself and are always available; mail and calendar actions need their channel open.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, TypeVar

from persona.events import Action, ActionKind

if TYPE_CHECKING:
    from persona.actions import Executor
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
        from persona.agent.inbox import open_email_channel

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


def home_executors(app: App) -> dict[ActionKind, Executor]:
    """The Actions the home carries out itself: they never leave it."""

    def leave_message(action: Action) -> str:
        from persona.store import MessageForOwner

        asker = action.requested_by
        app.store.leave_message(MessageForOwner(
            id=action.id, at=app.clock().isoformat(), sender=asker.address or asker.role.value, name=asker.name,
            role=asker.role.value, channel=str(action.payload.get("channel", "")), text=action.payload["text"],
        ))
        return "kept in the owner's messages"

    def remember(action: Action) -> str:
        from persona.memory.store import MemoryItem, date_metadata
        from persona.profile import Audience

        now = app.clock()
        item = MemoryItem.make(action.payload["text"], "knowledge", Audience(action.payload["audience"]),
                               subject="note", doc_id=f"note:{action.id}", doc_kind="note", source="twin",
                               author=app.profile.owner.emails[0], **date_metadata(now))
        added = app.memory.add([item])
        return f"note {item.id[:12]} kept for {action.payload['audience']}" + ("" if added else " (already known)")

    def correct_triage(action: Action) -> str:
        from persona.skills.triage import Correction, record_correction

        record_correction(app.store, Correction.model_validate(action.payload | {"at": app.clock().isoformat()}))
        return f"mail from {action.payload['sender']} is {action.payload['label']} from now on"

    return {ActionKind.LEAVE_MESSAGE: leave_message, ActionKind.REMEMBER: remember,
            ActionKind.CORRECT_TRIAGE: correct_triage}
