"""What flows through the twin: Events come in from channels, Actions go out through policy.

Every value that can steer an action carries its Provenance, so policy can tell a recipient the
owner typed from one a mail body suggested.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from persona.profile import DEFAULT_AUDIENCES, Audience, Profile, Role


class Principal(BaseModel):
    """Who is speaking to the twin, resolved from an address against the profile."""

    role: Role
    address: str = ""
    name: str = ""
    audiences: frozenset[Audience] = frozenset({Audience.PUBLIC})

    @property
    def is_owner(self) -> bool:
        return self.role is Role.OWNER

    @classmethod
    def owner(cls, profile: Profile) -> Principal:
        return cls(
            role=Role.OWNER,
            address=profile.owner.emails[0],
            name=profile.owner.name,
            audiences=DEFAULT_AUDIENCES[Role.OWNER],
        )

    @classmethod
    def resolve(cls, profile: Profile, address: str | None) -> Principal:
        """Map an address to the owner, a known person, or a stranger."""
        if not address or profile.is_owner(address):
            return cls.owner(profile)
        person = profile.person_for(address)
        if person is None:
            return cls(role=Role.STRANGER, address=address.strip().lower())
        return cls(
            role=person.role,
            address=address.strip().lower(),
            name=person.name,
            audiences=DEFAULT_AUDIENCES[person.role] | frozenset(person.may_see),
        )


class Source(StrEnum):
    """Where a value came from, from most to least trusted."""

    OWNER = "owner"  # the owner's own instruction
    OWNER_DATA = "owner_data"  # the owner's calendar, sent mail, contacts, profile
    KNOWN_PERSON = "known_person"  # text written by someone in the profile's people
    STRANGER = "stranger"  # text from an unknown sender
    DOCUMENT = "document"  # text from a file, a web page, an attachment
    TWIN = "twin"  # words the twin wrote for the owner, which the owner has not read yet

    @property
    def trusted(self) -> bool:
        return self in (Source.OWNER, Source.OWNER_DATA)

    @property
    def words(self) -> str:
        """How the owner reads this source: in the policy's reasons and where an approval shows provenance."""
        return _SOURCE_WORDS[self]


_SOURCE_WORDS = {
    Source.OWNER: "you",
    Source.OWNER_DATA: "your own data",
    Source.KNOWN_PERSON: "someone you know",
    Source.STRANGER: "a stranger",
    Source.DOCUMENT: "a document",
    Source.TWIN: "words the twin wrote that you have not read",
}


class Provenance(BaseModel):
    source: Source
    ref: str = ""  # e.g. a message id, a file path, an event uid
    # Who besides the owner could have written the text this value came from (a mail's sender, a file's
    # owner and editors); None when nobody tracked it. They learn nothing from it and cannot be fooled by it.
    authors: frozenset[str] | None = None

    @classmethod
    def of(cls, principal: Principal, ref: str = "") -> Provenance:
        if principal.is_owner:
            return cls(source=Source.OWNER, ref=ref)
        if principal.role is Role.STRANGER:
            return cls(source=Source.STRANGER, ref=ref)
        return cls(source=Source.KNOWN_PERSON, ref=ref)


def _now() -> datetime:
    return datetime.now(UTC)


def _id() -> str:
    return uuid.uuid4().hex


class Event(BaseModel):
    """Something arrived: a chat message, a mail, an invitation, a scheduler tick."""

    id: str = Field(default_factory=_id)
    channel: str  # "chat" | "email" | "calendar" | "scheduler" | "cli"
    principal: Principal
    text: str = ""
    subject: str = ""
    session_id: str = ""
    received_at: datetime = Field(default_factory=_now)
    provenance: Provenance
    meta: dict[str, Any] = {}


class ActionKind(StrEnum):
    REPLY_CHAT = "reply_chat"
    SAVE_DRAFT = "save_draft"
    SEND_MAIL = "send_mail"
    FORWARD_MAIL = "forward_mail"
    DELETE_MAIL = "delete_mail"
    CREATE_EVENT = "create_event"
    MOVE_EVENT = "move_event"
    CANCEL_EVENT = "cancel_event"
    ADD_ATTENDEES = "add_attendees"
    ANSWER_INVITE = "answer_invite"
    SHARE_DOCUMENT = "share_document"
    DELETE_DOCUMENT = "delete_document"
    REVEAL_MEMORY = "reveal_memory"
    WRITE_BRIEF = "write_brief"
    LEAVE_MESSAGE = "leave_message"  # a message for the owner's "for you" list
    REMEMBER = "remember"  # a note into memory, for the owner or a wider audience
    CORRECT_TRIAGE = "correct_triage"  # the owner's word on how a sender's mail is sorted


class Action(BaseModel):
    """Something the twin proposes to do. Policy decides whether it runs."""

    id: str = Field(default_factory=_id)
    kind: ActionKind
    requested_by: Principal
    targets: list[str] = []  # recipients, attendees, file ids: whatever the action reaches
    target_provenance: list[Provenance] = []
    payload: dict[str, Any] = {}
    payload_provenance: list[Provenance] = []
    event_id: str = ""
    summary: str = ""  # one line for the owner's approval list
    request: str = (
        ""  # the chat message that asked for it, shown to the owner with the approval; never acted on
    )


class Verdict(StrEnum):
    RUN = "run"
    APPROVE = "needs_approval"
    REFUSE = "refuse"


class Decision(BaseModel):
    verdict: Verdict
    reason: str
    rule: str = ""  # which rule decided, for the audit log
