"""What each kind of Action carries: one pydantic model per ActionKind, checked by the gate before policy.

`Action.payload` stays the plain JSON the audit log and the approvals queue keep (an approval stored by an
older version loads unchanged); these models say which keys it must hold and of what type, so a malformed
payload is refused with the field named before anything runs, and executors read typed values
(`NewEvent.of(action)`). A key a model does not name is kept in the JSON and ignored.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal, Self

from pydantic import AwareDatetime, BaseModel, Field, ValidationError, ValidationInfo, field_validator

from persona.errors import InvalidPayload
from persona.events import Action, ActionKind
from persona.profile import Audience


def first_error(exc: ValidationError) -> tuple[str, str]:
    """The first field that does not fit (dotted, for a nested one) and why, in words."""
    error = exc.errors()[0]
    return ".".join(str(part) for part in error["loc"]) or "payload", error["msg"].removeprefix(
        "Value error, "
    )


class Payload(BaseModel):
    @classmethod
    def of(cls, action: Action) -> Self:
        """`action`'s payload read as this model; InvalidPayload naming the first field that does not fit."""
        try:
            return cls.model_validate(action.payload)
        except ValidationError as exc:
            field, why = first_error(exc)
            raise InvalidPayload(f"{action.kind.value} payload: {field}: {why}") from None


class ChatReply(Payload):
    """REPLY_CHAT: the answer shown in the chat session that asked."""

    text: str
    session: str = ""


class Mail(Payload):
    """SAVE_DRAFT, SEND_MAIL, FORWARD_MAIL: the message without its recipients (those are the targets)."""

    message_id: str = Field(min_length=1)
    from_addr: str = Field(min_length=1)
    from_name: str = ""
    subject: str
    body: str
    in_reply_to: str = ""
    references: list[str] = []
    date: datetime
    draft_body: str = ""  # the twin's own draft, kept so the owner's edit of it teaches the twin their voice
    decision: dict[str, Any] | None = None  # what a reply does and why, shown with the approval; never sent


class Span(BaseModel):
    start: AwareDatetime
    end: AwareDatetime

    @field_validator("end")
    @classmethod
    def _after_start(cls, end: datetime, info: ValidationInfo) -> datetime:
        start = info.data.get("start")
        if start is not None and end <= start:
            raise ValueError(f"must be after the start ({start.isoformat()})")
        return end


class NewEvent(Payload, Span):
    """CREATE_EVENT: a meeting, and the other free times the owner may choose instead."""

    summary: str = Field(min_length=1)
    organizer: str = ""
    attendees: list[str] = []
    status: Literal["CONFIRMED", "TENTATIVE"] = "CONFIRMED"
    alternatives: list[Span] = []


class MovedEvent(Payload, Span):
    """MOVE_EVENT: an event (or one occurrence of a series) at its new time."""

    uid: str = Field(min_length=1)
    summary: str = ""
    recurrence_id: datetime | None = None


class CancelledEvent(Payload):
    """CANCEL_EVENT: an event, or one occurrence of a series."""

    uid: str = Field(min_length=1)
    summary: str = ""
    start: datetime | None = None
    recurrence_id: datetime | None = None


class BriefPayload(Payload):
    """WRITE_BRIEF: the brief as JSON (its model lives with the brief skill), mailed to the owner or not."""

    brief: dict[str, Any]
    by_mail: bool = False


class Message(Payload):
    """LEAVE_MESSAGE: what someone asked the twin to pass on, and where they said it."""

    text: str = Field(min_length=1)
    channel: str = ""


class Note(Payload):
    """REMEMBER: a note into memory, for the audience it may reach."""

    text: str = Field(min_length=1)
    audience: Audience


class TriageCorrection(Payload):
    """CORRECT_TRIAGE: how the owner wants a sender's mail sorted from now on."""

    message_id: str = Field(min_length=1)
    sender: str = Field(min_length=1)
    label: Literal["ignore", "notify", "respond"]
    subject: str = ""
    snippet: str = ""


class Recorded(Payload):
    """Kinds the twin never carries out itself (no executor here): the payload is only recorded."""


PAYLOADS: dict[ActionKind, type[Payload]] = {
    ActionKind.REPLY_CHAT: ChatReply,
    ActionKind.SAVE_DRAFT: Mail,
    ActionKind.SEND_MAIL: Mail,
    ActionKind.FORWARD_MAIL: Mail,
    ActionKind.CREATE_EVENT: NewEvent,
    ActionKind.MOVE_EVENT: MovedEvent,
    ActionKind.CANCEL_EVENT: CancelledEvent,
    ActionKind.WRITE_BRIEF: BriefPayload,
    ActionKind.LEAVE_MESSAGE: Message,
    ActionKind.REMEMBER: Note,
    ActionKind.CORRECT_TRIAGE: TriageCorrection,
    ActionKind.DELETE_MAIL: Recorded,
    ActionKind.ADD_ATTENDEES: Recorded,
    ActionKind.ANSWER_INVITE: Recorded,
    ActionKind.SHARE_DOCUMENT: Recorded,
    ActionKind.DELETE_DOCUMENT: Recorded,
    ActionKind.REVEAL_MEMORY: Recorded,
}
