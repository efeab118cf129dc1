"""What a person may change in an action before approving it, checked before anything runs.

A person edits what a person writes or chooses: the words of a mail, the time of a meeting. Ids,
addresses, threading headers, the reply's decision and `draft_body` (the twin's own draft, kept so the
owner's changes to it teach the twin their voice) are not editable. An edit to them, or a value that does
not fit, is refused with the field named, never dropped or merged blindly: the approval stays pending.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel, Field, ValidationError, ValidationInfo, field_validator

from persona.errors import InvalidEdit
from persona.events import Action, ActionKind
from persona.payloads import PAYLOADS, Span, first_error

Input = Literal["text", "line", "datetime"]  # how a form shows a field
INPUTS: dict[str, Input] = {"body": "text", "subject": "line", "start": "datetime", "end": "datetime"}


class MailEdit(BaseModel):
    """The words of a mail."""

    body: str | None = Field(None, max_length=50_000, title="Text")
    subject: str | None = Field(None, max_length=300, title="Subject")

    @field_validator("body", "subject", mode="before")
    @classmethod
    def _words(cls, value: Any, info: ValidationInfo) -> str:
        if not isinstance(value, str) or not value.strip():
            raise ValueError("must be some text")
        if info.field_name == "subject" and "\n" in value.strip():
            raise ValueError("must be one line")
        return value


class TimeEdit(BaseModel):
    """The time of a meeting. A time without a zone is the owner's; a new start alone keeps the length."""

    start: datetime | None = Field(None, title="Starts")
    end: datetime | None = Field(None, title="Ends")

    @field_validator("start", "end", mode="before")
    @classmethod
    def _iso(cls, value: Any, info: ValidationInfo) -> datetime:
        try:
            when = datetime.fromisoformat(value.strip()) if isinstance(value, str) and ":" in value else None
        except ValueError:
            when = None
        if when is None:
            raise ValueError(f"{str(value)[:40]!r} is not a date and time like 2026-03-03T15:00")
        zone: ZoneInfo = (info.context or {})["zone"]  # check_edit always passes the owner's zone
        return when if when.tzinfo else when.replace(tzinfo=zone)


EDITS: dict[ActionKind, type[MailEdit | TimeEdit]] = {
    ActionKind.SEND_MAIL: MailEdit,
    ActionKind.SAVE_DRAFT: MailEdit,
    ActionKind.FORWARD_MAIL: MailEdit,
    ActionKind.CREATE_EVENT: TimeEdit,
    ActionKind.MOVE_EVENT: TimeEdit,
}


def editable(action: Action) -> list[str]:
    """The payload fields a person may change in `action`, in form order."""
    model = EDITS.get(action.kind)
    return [name for name in (model.model_fields if model else {}) if name in action.payload]


def check_edit(action: Action, edited: dict[str, Any], *, zone: ZoneInfo, now: datetime) -> dict[str, Any]:
    """The payload fields `edited` replaces in `action`, checked and as JSON values (a time moved alone
    brings its end along). Raises InvalidEdit naming the first field that may not be changed or does not fit."""
    if not edited:
        return {}
    allowed = editable(action)
    for field in edited:
        if field not in allowed:
            can = f"; editable: {', '.join(allowed)}" if allowed else ""
            raise InvalidEdit(field, f"is not editable in {action.kind.value}{can}")
    try:
        edit = EDITS[action.kind].model_validate(edited, context={"zone": zone})
        changed = (
            _times(action, edit, now) if isinstance(edit, TimeEdit) else edit.model_dump(exclude_unset=True)
        )
        # the payload as it will run fits its kind's model, like every payload the gate lets through
        PAYLOADS[action.kind].model_validate({**action.payload, **changed})
    except ValidationError as exc:
        raise InvalidEdit(*first_error(exc)) from None
    return changed


def _times(action: Action, edit: TimeEdit, now: datetime) -> dict[str, str]:
    """The new start and end; a new start alone moves the meeting: it keeps its length."""
    old = Span.model_validate(action.payload)
    start = edit.start or old.start
    end = edit.end or start + (old.end - old.start)
    if start < now:
        raise InvalidEdit("start", "is in the past")
    return {"start": start.isoformat(), "end": end.isoformat()}
