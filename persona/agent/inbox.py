"""The inbox loop: fetch new mail, triage it, draft replies, queue sends: each mail exactly once.

Every message has a ledger entry `mail:<message-id>` that moves through

    fetched -> triaged -> drafted -> done

with a compare-and-set at each step. Work between two states is idempotent, so a crash anywhere
(kill -9) followed by a rerun redoes at most the interrupted step:
- triage has no side effects; the reply text is stored with the `drafted` state, so a rerun saves
  the very same reply;
- the draft's Message-ID derives from the incoming one and the backend looks for it before saving;
- the SEND_MAIL Action's id derives from the incoming Message-ID, and the approvals queue ignores a
  second insert of the same id;
- a send is guarded by `mail-send:<reply-id>` (persona.channels.email.delivery.send_once): a send
  killed between leaving and being recorded is never retried blindly, but marked uncertain and
  reported (at most once, and the owner is told).
The backend's cursor moves past a message only after its entry is `done`, so nothing is lost either.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from typing import TYPE_CHECKING

from pydantic import BaseModel

from persona.channels.calendar.delivery import tentative_event_payload
from persona.channels.email import EmailChannel, IncomingMail, OutgoingMail
from persona.channels.email.delivery import crash_point, executors
from persona.channels.email.errors import SendUncertain
from persona.errors import PersonaError
from persona.events import Action, ActionKind, Event, Provenance, Verdict
from persona.skills.draft_reply import draft_reply, reply_message_id
from persona.skills.mailbox import MailState, kept
from persona.skills.schedule import Slot
from persona.skills.triage import Label, triage

if TYPE_CHECKING:
    from persona.app import App


class MailOutcome(BaseModel):
    message_id: str
    sender: str
    subject: str
    label: str
    reason: str
    did: str  # what happened, one line


class InboxReport(BaseModel):
    outcomes: list[MailOutcome] = []
    stopped: str = ""  # why the run stopped early (e.g. the LLM is down); the rest waits for the next run


def process_inbox(
    app: App, channel: EmailChannel, *, progress: Callable[[MailOutcome], None] | None = None
) -> InboxReport:
    """Handle every new mail once: triage, then for `respond` a draft in Drafts and a queued send. The
    channel's executors are on the gate for this run only: the caller stops the channel after it."""
    report = InboxReport()
    with app.gate.executors.while_open(executors(app, channel)):
        for event in channel.fetch():
            try:
                outcome = handle_mail(app, channel, event)
            except PersonaError as exc:
                report.stopped = str(exc)  # cursor stays before this mail: the next run resumes it
                break
            channel.commit(event)
            report.outcomes.append(outcome)
            if progress is not None:
                progress(outcome)
    return report


def handle_mail(app: App, channel: EmailChannel, event: Event) -> MailOutcome:
    """Move one mail through fetched -> triaged -> drafted -> done, each step once across reruns and crashes.

    Guarantees: the `mail:<message-id>` ledger entry moves only by compare-and-set, so two runs never both
    take a step (the second raises PersonaError and the mail is retried); a `respond` mail gets exactly
    one draft and one SEND_MAIL (and, when the reply offers a time, one tentative CREATE_EVENT) submitted
    to the gate under deterministic ids, never sent here directly;
    an `ignore` mail is marked read, anything else is left unread for the owner. The caller commits the
    channel's cursor only after this returns.
    """
    mail = IncomingMail.model_validate(event.meta["mail"])
    key = f"mail:{mail.message_id}"
    first = MailState(
        sender=event.principal.address, subject=mail.subject, snippet=mail.text[:300], mail=kept(mail)
    )
    app.store.ledger_set(key, "fetched", first.model_dump_json(), expect="")
    crash_point("after_fetched")
    status, value = app.store.ledger_get(key) or ("fetched", first.model_dump_json())
    state = MailState.model_validate_json(value)
    did = "already handled in an earlier run" if status == "done" else ""

    if status == "fetched":
        result = triage(app, mail, event.principal)
        state = state.model_copy(
            update={"label": result.label.value, "reason": result.reason, "source": result.source}
        )
        app.store.audit(
            "triaged",
            actor=event.principal.address or "unknown",
            subject=mail.message_id,
            detail={"label": result.label.value, "reason": result.reason, "source": result.source},
        )
        status = _move(app, key, status, "triaged", state)
        crash_point("after_triaged")

    if status == "triaged":
        if state.label == Label.RESPOND:
            draft = draft_reply(app, mail, event.principal)
            owner = app.profile.owner
            reply = OutgoingMail(
                message_id=reply_message_id(mail.message_id, owner.emails[0]),
                from_addr=owner.emails[0],
                from_name=owner.name,
                to=[draft.to],
                subject=draft.subject,
                body=draft.body,
                in_reply_to=draft.in_reply_to,
                references=draft.references,
                date=app.clock(),
            )
            state = state.model_copy(
                update={
                    "reply": reply,
                    "fallback": draft.fallback,
                    "meeting": draft.meeting is not None,
                    "slot": draft.slot,
                    "alternatives": draft.alternatives,
                    "plan": draft.plan,
                }
            )
            status = _move(app, key, status, "drafted", state)
            crash_point("after_reply_written")
        else:
            if state.label == Label.IGNORE:
                channel.mark_seen(event)
            did = "marked read" if state.label == Label.IGNORE else "left unread for the owner"
            status = _move(app, key, status, "done", state.model_copy(update={"note": did}))

    if status == "drafted" and state.reply is not None:
        state = _deliver_reply(app, event, mail, state, state.reply)
        did = state.note
        status = _move(app, key, status, "done", state)

    return MailOutcome(
        message_id=mail.message_id,
        sender=state.sender,
        subject=state.subject,
        label=state.label,
        reason=state.reason,
        did=did or state.note,
    )


def _deliver_reply(
    app: App, event: Event, mail: IncomingMail, state: MailState, reply: OutgoingMail
) -> MailState:
    """Save the draft and submit the send. Targets: only the sender, provenance: the mail's headers."""
    origin = [Provenance.of(event.principal, ref=mail.message_id)]
    payload = reply.model_dump(mode="json", exclude={"to"}) | {"draft_body": reply.body}
    decided = ""
    if state.plan is not None:  # what the reply does and why, shown with the approval; the send ignores it
        payload["decision"] = state.plan.model_dump(mode="json")
        decided = f" ({state.plan.decision.value.replace('_', ' ')})"
    common = {
        "requested_by": event.principal,
        "targets": reply.to,
        "target_provenance": origin,
        "payload": payload,
        "payload_provenance": origin,
        "event_id": event.id,
    }
    if app.store.ledger_get(f"mail-send:{reply.message_id}") is None:  # a sent reply's draft stays gone
        app.gate.submit(
            Action(
                id=_action_id("draft", mail.message_id),
                kind=ActionKind.SAVE_DRAFT,
                summary=f"draft reply to {reply.to[0]}: {reply.subject}",
                **common,
            )
        )
    crash_point("after_draft_saved")
    try:
        outcome = app.gate.submit(
            Action(
                id=_action_id("send", mail.message_id),
                kind=ActionKind.SEND_MAIL,
                summary=f"send reply to {reply.to[0]}: {reply.subject}{decided}",
                **common,
            )
        )
    except SendUncertain as exc:
        return state.model_copy(update={"verdict": "uncertain", "note": str(exc)})
    crash_point("after_send_submitted")
    if state.slot is not None:
        _hold_slot(app, event, mail, state.slot, state.alternatives, origin)
    notes = {
        Verdict.RUN: f"reply sent: {outcome.receipt}",
        Verdict.APPROVE: f"draft saved; send awaits approval {outcome.action_id[:8]}",
        Verdict.REFUSE: f"draft saved; send refused: {outcome.decision.reason}",
    }
    note = notes[outcome.decision.verdict] + (" (written by rule)" if state.fallback else "")
    return state.model_copy(
        update={"approval_id": outcome.action_id, "verdict": outcome.decision.verdict.value, "note": note}
    )


def _hold_slot(
    app: App, event: Event, mail: IncomingMail, slot: Slot, alternatives: list[Slot], origin: list[Provenance]
) -> None:
    """Propose the slot the reply offers as a tentative event; the sender asked, so the owner approves
    (and may choose one of the other free times instead)."""
    owner = app.profile.owner.emails[0]
    app.gate.submit(
        Action(
            id=_action_id("event", mail.message_id),
            kind=ActionKind.CREATE_EVENT,
            requested_by=event.principal,
            targets=[mail.from_addr],
            target_provenance=origin,
            payload_provenance=origin,
            event_id=event.id,
            payload=tentative_event_payload(
                mail.subject.removeprefix("Re: ") or "Meeting",
                slot.start.isoformat(),
                slot.end.isoformat(),
                owner,
                [mail.from_addr],
                [(s.start, s.end) for s in alternatives],
            ),
            summary=f"tentative event {slot.start.astimezone(app.profile.zone):%a %d %b %H:%M} with {mail.from_addr}",
        )
    )


def _action_id(kind: str, message_id: str) -> str:
    """Deterministic, so a rerun re-submits the same Action and the queue keeps one copy."""
    return hashlib.sha256(f"{kind}\0{message_id}".encode()).hexdigest()[:32]


def _move(app: App, key: str, current: str, new: str, state: MailState) -> str:
    if not app.store.ledger_set(key, new, state.model_dump_json(), expect=current):
        raise PersonaError(
            f"{key} changed under this run (another inbox run at the same time?); it will be retried"
        )
    return new
