"""The persona profile: who the owner is, how they write, who their people are, what they allow.

Kept as a YAML file the owner edits (`persona.yaml` in the home); validated here with pydantic so a
mistake is reported naming the field.
"""

from __future__ import annotations

import re
from datetime import time
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    PlainSerializer,
    PlainValidator,
    ValidationError,
    WithJsonSchema,
    field_validator,
)

from persona.errors import ConfigError


class Audience(StrEnum):
    """Who may see a memory item. Ordered from most private to most open."""

    OWNER = "owner"
    TEAM = "team"
    PUBLIC = "public"


class Role(StrEnum):
    OWNER = "owner"
    COLLEAGUE = "colleague"
    FAMILY = "family"
    CONTACT = "contact"
    STRANGER = "stranger"


# What each role may see of memory unless the owner widens it for a person.
DEFAULT_AUDIENCES: dict[Role, frozenset[Audience]] = {
    Role.OWNER: frozenset(Audience),
    Role.COLLEAGUE: frozenset({Audience.TEAM, Audience.PUBLIC}),
    Role.FAMILY: frozenset({Audience.PUBLIC}),
    Role.CONTACT: frozenset({Audience.PUBLIC}),
    Role.STRANGER: frozenset({Audience.PUBLIC}),
}

Weekday = Literal["mon", "tue", "wed", "thu", "fri", "sat", "sun"]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Owner(_Strict):
    name: str = Field(min_length=1)
    emails: list[str] = Field(min_length=1)
    role: str = ""
    organization: str = ""
    timezone: str = "UTC"

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(
                f"unknown time zone {value!r:.60} (use an IANA name like Europe/Berlin)"
            ) from None
        return value

    @field_validator("emails")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [_check_address(v) for v in value]


# ":00" seconds: how profiles saved before times were written as "HH:MM" hold them; they still load
_HH_MM = re.compile(r"([01]\d|2[0-3]):[0-5]\d(:00)?")


def _hh_mm(value: object) -> time:
    """Only "HH:MM": pydantic would read YAML's unquoted 9 as 00:00:09, and YAML 1.1 reads an unquoted
    17:30 as the number 1050."""
    if isinstance(value, time) and not (value.second or value.microsecond or value.tzinfo):
        return value
    if isinstance(value, str) and _HH_MM.fullmatch(value):
        return time(int(value[:2]), int(value[3:5]))
    raise ValueError(f'must be a 24-hour time "HH:MM" in quotes, like "09:00" (got {value!r:.60})')


# A wall-clock time in the owner's zone, written and sent as "09:00". Pydantic's default schema says
# `format: time`, which JSON Schema reads as RFC 3339 with an offset: the API would promise what it never sends.
LocalTime = Annotated[
    time,
    PlainValidator(_hh_mm),
    PlainSerializer(lambda value: value.strftime("%H:%M"), return_type=str),
    WithJsonSchema(
        {
            "type": "string",
            "pattern": r"^([01]\d|2[0-3]):[0-5]\d$",
            "description": "HH:MM in the owner's time zone",
        }
    ),
]


class WorkingHours(_Strict):
    days: list[Weekday] = ["mon", "tue", "wed", "thu", "fri"]
    start: LocalTime = time(9, 0)
    end: LocalTime = time(17, 30)


class Voice(_Strict):
    """Notes the owner gives about their own writing; the style card adds measured habits."""

    notes: list[str] = []
    language: str = "en"


class Person(_Strict):
    name: str = Field(min_length=1)
    emails: list[str] = []
    relationship: str = ""
    role: Role = Role.CONTACT
    # Extra audiences this person may see beyond their role's default (e.g. [team] for a contractor).
    may_see: list[Audience] = []

    @field_validator("emails")
    @classmethod
    def _lower(cls, value: list[str]) -> list[str]:
        return [_check_address(v) for v in value]

    @field_validator("role")
    @classmethod
    def _not_owner(cls, value: Role) -> Role:
        if value is Role.OWNER:
            raise ValueError("a person in `people` cannot have the owner role")
        return value


class Boundary(_Strict):
    """A topic the twin never discusses with the listed roles or addresses."""

    topic: str = Field(min_length=1)
    keywords: list[str] = []
    never_with: list[str] = ["colleague", "family", "contact", "stranger"]


class ApprovalRule(_Strict):
    """Widens what runs without asking: `action` for the listed people/roles runs at once."""

    action: str = Field(min_length=1)
    to: list[str] = Field(min_length=1, description="addresses, or role:colleague style selectors")
    decision: Literal["allow"] = "allow"


class TriageRules(_Strict):
    ignore_senders: list[str] = []
    ignore_keywords: list[str] = []
    notify_senders: list[str] = []
    notify_keywords: list[str] = []
    respond_senders: list[str] = []
    respond_keywords: list[str] = []


class Schedule(_Strict):
    inbox_every_minutes: int = Field(default=5, ge=1)
    daily_brief_at: LocalTime = time(7, 30)
    upkeep_at: LocalTime = time(2, 30)


class Profile(_Strict):
    owner: Owner
    working_hours: WorkingHours = WorkingHours()
    voice: Voice = Voice()
    people: list[Person] = []
    boundaries: list[Boundary] = []
    approval_rules: list[ApprovalRule] = []
    triage: TriageRules = TriageRules()
    schedule: Schedule = Schedule()

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.owner.timezone)

    def is_owner(self, address: str) -> bool:
        return address.strip().lower() in self.owner.emails

    def person_for(self, address: str) -> Person | None:
        address = address.strip().lower()
        return next((p for p in self.people if address in p.emails), None)


def _check_address(value: str) -> str:
    value = value.strip().lower()
    if "@" not in value or value.startswith("@") or value.endswith("@"):
        raise ValueError(f"{value!r:.60} is not an email address")
    return value


def load_profile(path: Path) -> Profile:
    """Parse and validate a profile file; every problem becomes a ConfigError naming the field (quoting at
    most 60 characters of a bad value: the server answers an edit with it)."""
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such profile file") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" at line {mark.line + 1}" if mark else ""
        raise ConfigError(f"{path}: not valid YAML{where}: {getattr(exc, 'problem', exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping with at least an `owner:` section")
    try:
        return Profile.model_validate(data)
    except ValidationError as exc:
        err = exc.errors()[0]
        field = ".".join(str(part) for part in err["loc"]) or "(top level)"
        more = f" (and {len(exc.errors()) - 1} more)" if len(exc.errors()) > 1 else ""
        raise ConfigError(f"{path}: field `{field}`: {err['msg']}{more}") from None


def save_profile(profile: Profile, path: Path) -> None:
    data = profile.model_dump(mode="json", exclude_defaults=False)
    path.write_text(yaml.safe_dump(data, sort_keys=False, allow_unicode=True), encoding="utf-8")
