"""One approval as the owner reads it before deciding: what may be changed, where its targets and content
came from, why it waits, and the mail or chat message it answers. Shared by the API and the CLI."""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from persona.approval_edits import EDITS, INPUTS, Input, editable
from persona.events import Action, Provenance
from persona.skills.mailbox import PREFIX, MailState
from persona.store import Approval

if TYPE_CHECKING:
    from persona.app import App


class TimeChoice(BaseModel):
    """A time the calendar solver found free when the action was proposed."""

    start: str
    end: str
    label: str  # in the owner's zone, e.g. "Tue 3 Mar 15:00–15:30"


class EditableField(BaseModel):
    name: str  # the payload field, as `edited` names it when approving
    label: str
    input: Input
    value: str  # as it would go out now (the owner's earlier edits included)
    choices: list[TimeChoice] = []


class Original(BaseModel):
    """The message the action answers, as its sender wrote it: data to read, never instructions."""

    channel: Literal["email", "chat"]
    sender: str
    subject: str = ""
    date: str = ""  # ISO, when known
    text: str


class Origin(BaseModel):
    """Where one part of the action came from."""

    label: str  # "Targets from" or "Content from"
    sources: list[str]  # as the owner reads them, e.g. "someone you know (<a1@x>)"


class ApprovalDetail(BaseModel):
    approval: Approval
    editable: list[EditableField]
    provenance: list[Origin]
    reason: str  # why the policy asks the owner
    original: Original | None = None


def approval_detail(app: App, approval_id: str) -> ApprovalDetail:
    approval = app.store.get_approval(approval_id)
    return ApprovalDetail(
        approval=approval,
        editable=editable_fields(approval, app.profile.zone),
        provenance=origins(approval.action),
        reason=approval.reason,
        original=original_of(app, approval.action),
    )


def editable_fields(approval: Approval, zone: ZoneInfo) -> list[EditableField]:
    """What a person may change, as a form shows it; a meeting's start offers the solver's other free times."""
    action, payload = approval.action, approval.effective_action.payload
    fields = []
    for name in editable(action):
        info = EDITS[action.kind].model_fields[name]
        choices = (
            [_choice(c["start"], c["end"], zone) for c in action.payload.get("alternatives", [])]
            if name == "start"
            else []
        )
        fields.append(
            EditableField(
                name=name,
                label=info.title or name,
                input=INPUTS[name],
                value=str(payload[name]),
                choices=choices,
            )
        )
    return fields


def _choice(start: str, end: str, zone: ZoneInfo) -> TimeChoice:
    begin, finish = (
        datetime.fromisoformat(start).astimezone(zone),
        datetime.fromisoformat(end).astimezone(zone),
    )
    return TimeChoice(start=start, end=end, label=f"{begin:%a %-d %b %H:%M}–{finish:%H:%M}")


def origins(action: Action) -> list[Origin]:
    """Where the action's targets and content came from."""
    return [
        Origin(label=label, sources=[_source(p) for p in provenance])
        for label, provenance in (
            ("Targets from", action.target_provenance),
            ("Content from", action.payload_provenance),
        )
        if provenance
    ]


def _source(p: Provenance) -> str:
    return p.source.words + (f" ({p.ref})" if p.ref else "")


def original_of(app: App, action: Action) -> Original | None:
    """The mail the action answers or forwards (from the inbox's ledger), else the chat message that asked."""
    refs = [action.payload.get("in_reply_to", ""), *(p.ref for p in action.payload_provenance)]
    for ref in filter(None, refs):
        if found := app.store.ledger_get(PREFIX + ref):
            state = MailState.model_validate_json(found[1])
            mail = state.mail
            return Original(
                channel="email",
                sender=mail.from_addr if mail else state.sender,
                subject=state.subject,
                date=mail.date.isoformat() if mail and mail.date else "",
                text=mail.text if mail else state.snippet,
            )
    if action.request:
        who = action.requested_by
        return Original(channel="chat", sender=who.address or who.role.value, text=action.request)
    return None
