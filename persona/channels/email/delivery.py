"""Carrying out mail Actions that policy allowed: the email channel's executors (SAVE_DRAFT, SEND_MAIL,
FORWARD_MAIL), on the ActionGate only while the channel is open, and the exactly-once guard every send passes.

A send is guarded by `mail-send:<message-id>` in the store's ledger (sending -> sent, or failed when the
server raised an error, which may be retried). A send killed between leaving and being recorded is never
retried blindly: if the Sent folder does not show it, it is marked uncertain and reported.
"""

from __future__ import annotations

import json
import os
import signal
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING

from persona.actions import Executor
from persona.channels.email import EmailChannel, OutgoingMail, open_backend
from persona.channels.email.channel import outgoing_from
from persona.channels.email.errors import SendUncertain
from persona.events import Action, ActionKind
from persona.payloads import Mail

if TYPE_CHECKING:
    from persona.app import App

CRASH_ENV = "PERSONA_CRASH_AT"
VOICE_PREFIX = "voice-feedback:"


def crash_point(step: str) -> None:
    """Test hook for the exactly-once tests: die like `kill -9` where PERSONA_CRASH_AT names this step."""
    if os.environ.get(CRASH_ENV) == step:
        os.kill(os.getpid(), signal.SIGKILL)


def open_email_channel(app: App) -> EmailChannel:
    """The configured channel, started; the caller stops it. Its executors are on the gate only inside
    `delivering_mail` (or `agent.inbox.process_inbox`), never after it stops."""
    channel = EmailChannel(open_backend(app), app.profile)
    channel.start()
    return channel


@contextmanager
def delivering_mail(app: App) -> Iterator[EmailChannel]:
    """The configured channel, started, its executors on the gate until the block ends; then they are gone
    and the connection closed. Whoever approves a queued send in another process (the approvals CLI, the
    server) opens this, so the approved Action is delivered by the same backend, and only while open."""
    channel = open_email_channel(app)
    try:
        with app.gate.executors.while_open(executors(app, channel)):
            yield channel
    finally:
        channel.stop()


def executors(app: App, channel: EmailChannel) -> dict[ActionKind, Executor]:
    """What `channel` carries out: drafts as they are, every send through `send_once`."""
    return {
        ActionKind.SAVE_DRAFT: channel.deliver,
        ActionKind.SEND_MAIL: lambda action: send_once(app, channel, action),
        ActionKind.FORWARD_MAIL: lambda action: send_once(app, channel, action),
    }


def send_once(app: App, channel: EmailChannel, action: Action) -> str:
    """Deliver a SEND_MAIL at most once per reply Message-ID; record the owner's edits as voice feedback."""
    msg = outgoing_from(action)
    key = f"mail-send:{msg.message_id}"
    # A send that failed with an error (server down, login refused) did not leave: it may be retried.
    claimed = app.store.ledger_set(key, "sending", expect="") or app.store.ledger_set(
        key, "sending", expect="failed"
    )
    if not claimed:
        status = (app.store.ledger_get(key) or ("", ""))[0]
        if status == "sent":
            return f"{msg.message_id} was already sent"
        if channel.backend.was_sent(msg.message_id):
            app.store.ledger_set(key, "sent", "found in the Sent folder after an interruption")
            return f"{msg.message_id} was already sent (found in Sent)"
        app.store.ledger_set(key, "uncertain")
        raise SendUncertain(
            f"an earlier send of {msg.message_id} to {', '.join(msg.to)} was interrupted and may"
            " have left; it is not retried: check with the recipient"
        )
    try:
        receipt = channel.deliver(action)
    except Exception as exc:
        app.store.ledger_set(key, "failed", str(exc))
        raise
    crash_point("after_mail_sent")
    app.store.ledger_set(key, "sent", receipt)
    _record_voice_feedback(app, action, msg)
    return receipt


def _record_voice_feedback(app: App, action: Action, msg: OutgoingMail) -> None:
    """The owner's edit of a drafted reply is the best evidence of their voice: keep both versions."""
    drafted = Mail.of(action).draft_body
    if drafted and drafted.strip() != msg.body.strip():
        value = {
            "to": msg.to,
            "subject": msg.subject,
            "drafted": drafted,
            "sent": msg.body,
            "at": app.clock().isoformat(),
        }
        app.store.ledger_set(VOICE_PREFIX + msg.message_id, "edited", json.dumps(value))
