"""The delegation eval's data: a home (profile, calendar, memory, seeded state) and cases with the
effects each turn must have, checked on the state after the turn.

A case names who speaks (`owner`, or any address: a person of the profile, or a stranger), what they
say, optionally earlier turns of the same conversation, and what must follow: exactly the listed
effects (none when the list is empty), each matched by kind, policy verdict, who it reaches, when,
and what it says; and words the reply must or must not contain.
"""

from __future__ import annotations

from datetime import datetime
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field

from persona.errors import ConfigError
from persona.profile import Audience

EffectKind = Literal[
    "create_event",
    "move_event",
    "cancel_event",
    "send_mail",
    "forward_mail",
    "leave_message",
    "remember",
    "approve",
    "reject",
    "correct_triage",
]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class MemorySource(_Strict):
    path: str  # a file or folder, relative to the cases file
    audience: Audience


class SeededApproval(_Strict):
    """A reply or invitation already waiting for the owner when a case starts."""

    key: str  # the name cases use for it
    kind: Literal["send_mail", "create_event"]
    requested_by: str  # the address whose mail or request it answers
    to: list[str]
    subject: str = ""
    body: str = ""
    start: datetime | None = None  # create_event: local time in the owner's zone
    minutes: int = 30


class SeededMessage(_Strict):
    """A message someone left for the owner before the case starts."""

    from_: str = Field(alias="from")
    text: str


class SeededMail(_Strict):
    """A mail in the owner's inbox, already read and sorted, that a case may refer to."""

    from_: str = Field(alias="from")
    subject: str
    body: str
    date: datetime  # with its offset
    label: Literal["respond", "notify", "ignore"] = "respond"


class Seed(_Strict):
    approvals: list[SeededApproval] = []
    messages: list[SeededMessage] = []
    mail: list[SeededMail] = []


class EvalHome(_Strict):
    profile: str
    calendar: str | None = None
    memory: list[MemorySource] = []
    now: datetime  # the twin's clock for every case, with its offset
    seed: Seed = Seed()


class ExpectedEffect(_Strict):
    kind: EffectKind
    verdict: Literal["run", "needs_approval"] | None = None  # None: either
    attendees: list[str] | None = None  # events: exactly these people besides the owner
    to: list[str] | None = None  # mail: exactly these recipients
    start_between: tuple[datetime, datetime] | None = None  # owner's local wall time, inclusive
    minutes: int | None = None
    event: str | None = None  # move/cancel: the title of the event acted on contains this
    mentions: list[str] = []  # any one of these in the mail body, message or note (case-insensitive)
    approval: str | None = None  # approve/reject: the seeded approval's key
    audience: Audience | None = None  # remember: the note's audience
    sender: str | None = None  # correct_triage: the sender whose mail is relabelled
    label: Literal["respond", "notify", "ignore"] | None = None  # correct_triage: the new label


class PriorTurn(_Strict):
    say: str
    as_: str | None = Field(default=None, alias="as")  # None: the case's speaker, in the same session


class Expect(_Strict):
    effects: list[ExpectedEffect] = []
    may: list[EffectKind] = []  # kinds that may also happen without being wrong (e.g. leaving a message)
    reply_mentions: list[str] = []  # every one must appear in the reply (case-insensitive)
    reply_avoids: list[str] = []  # none may appear


class Case(_Strict):
    id: str
    category: str
    as_: str = Field(default="owner", alias="as")
    before: list[str | PriorTurn] = []
    say: str
    expect: Expect = Expect()


class CaseFile(_Strict):
    home: EvalHome
    cases: list[Case] = Field(min_length=1)


def load_cases(path: Path) -> CaseFile:
    """The case file, validated; a mistake is one line naming the case and field."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"{path}: cannot read: {exc}") from None
    try:
        cases = CaseFile.model_validate(data)
    except ValueError as exc:
        raise ConfigError(f"{path}: {str(exc).splitlines()[0]}: {str(exc).splitlines()[1:3]}") from None
    ids = [c.id for c in cases.cases]
    if dupes := sorted({i for i in ids if ids.count(i) > 1}):
        raise ConfigError(f"{path}: case ids used twice: {', '.join(dupes)}")
    return cases
