"""The calendar's data at the edge: one expanded event instance and a busy interval."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from persona.profile import Weekday

# Index = datetime.weekday(), names as in persona.profile.WorkingHours.days.
WEEKDAYS: tuple[Weekday, ...] = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


class Status(StrEnum):
    CONFIRMED = "CONFIRMED"
    TENTATIVE = "TENTATIVE"
    CANCELLED = "CANCELLED"


class Transparency(StrEnum):
    OPAQUE = "OPAQUE"
    TRANSPARENT = "TRANSPARENT"


class PartStat(StrEnum):
    NEEDS_ACTION = "NEEDS-ACTION"
    ACCEPTED = "ACCEPTED"
    DECLINED = "DECLINED"
    TENTATIVE = "TENTATIVE"
    DELEGATED = "DELEGATED"


def _aware(value: datetime) -> datetime:
    if value.tzinfo is None or value.utcoffset() is None:
        raise ValueError("datetime must be time-zone aware")
    return value


class Interval(BaseModel):
    """A half-open span [start, end) of absolute time."""

    model_config = ConfigDict(frozen=True)

    start: datetime
    end: datetime

    _check_start = field_validator("start", "end")(_aware)

    @model_validator(mode="after")
    def _ordered(self) -> Interval:
        if self.end < self.start:
            raise ValueError(f"interval ends ({self.end}) before it starts ({self.start})")
        return self

    def overlaps(self, other: Interval) -> bool:
        return self.start < other.end and other.start < self.end


class Attendee(BaseModel):
    email: str
    name: str = ""
    partstat: PartStat = PartStat.NEEDS_ACTION
    rsvp: bool = True

    @field_validator("email")
    @classmethod
    def _plain(cls, value: str) -> str:
        return _plain_address(value)


def _plain_address(value: str) -> str:
    value = value.strip()
    if value.lower().startswith("mailto:"):
        value = value[7:]
    return value.lower()


class CalEvent(BaseModel):
    """One event instance: a single event, or one occurrence of a recurring series.

    All-day events carry local midnights of the calendar's zone as start and end (end exclusive),
    so every instance has tz-aware datetimes and the solver needs no special case.
    """

    uid: str = ""
    summary: str = ""
    description: str = ""
    location: str = ""
    start: datetime
    end: datetime
    all_day: bool = False
    attendees: list[Attendee] = []
    organizer: str = ""
    status: Status = Status.CONFIRMED
    transparency: Transparency = Transparency.OPAQUE
    private: bool = False
    recurrence_id: datetime | None = None
    recurring: bool = False
    sequence: int = Field(default=0, ge=0)

    _check_times = field_validator("start", "end")(_aware)

    @field_validator("organizer")
    @classmethod
    def _organizer(cls, value: str) -> str:
        return _plain_address(value)

    @model_validator(mode="after")
    def _ordered(self) -> CalEvent:
        if self.end < self.start:
            raise ValueError(f"event ends ({self.end}) before it starts ({self.start})")
        return self

    @property
    def busy(self) -> bool:
        """Whether this instance blocks time: transparent and cancelled events do not."""
        return self.status is not Status.CANCELLED and self.transparency is Transparency.OPAQUE

    @property
    def interval(self) -> Interval:
        return Interval(start=self.start, end=self.end)


class ImportSummary(BaseModel):
    path: str
    created: int = 0
    updated: int = 0
    recurring: int = 0
    skipped: list[str] = []  # one line per component left out, saying why
