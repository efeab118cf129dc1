"""The usage ledger: LLM calls and tokens per job and tag, per day, in the home's `usage.sqlite`.

The job that is running is a context variable set by `tracking(...)`, so concurrent jobs on the
scheduler's threads never book each other's calls; calls outside any job count as `interactive`.
It lives with the LLM, not the scheduler, so a skill that calls the model (the brief) can book it.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from datetime import date
from typing import TYPE_CHECKING

from pydantic import BaseModel

from persona.db import Repository
from persona.llm.client import Usage

if TYPE_CHECKING:
    from persona.app import App

current_job: ContextVar[str] = ContextVar("persona_current_job", default="interactive")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS usage (
    day TEXT NOT NULL,
    job TEXT NOT NULL,
    tag TEXT NOT NULL,
    calls INTEGER NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    PRIMARY KEY (day, job, tag)
)
"""


class UsageRow(BaseModel):
    day: str
    job: str
    tag: str
    calls: int
    prompt_tokens: int
    completion_tokens: int


class UsageLedger(Repository):
    """Days come from the caller (the App's clock, in the owner's zone)."""

    schema = _SCHEMA

    @classmethod
    def of(cls, app: App) -> UsageLedger:
        return cls(app.home.usage_db, app.clock)

    def add(self, day: date, job: str, tag: str, usage: Usage) -> None:
        with self._connect() as db:  # one UPSERT: concurrent jobs add without losing counts
            db.execute(
                "INSERT INTO usage VALUES (?,?,?,?,?,?) ON CONFLICT(day, job, tag) DO UPDATE SET "
                "calls = calls + excluded.calls, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
                "completion_tokens = completion_tokens + excluded.completion_tokens",
                (day.isoformat(), job, tag, usage.calls, usage.prompt_tokens, usage.completion_tokens),
            )

    def rows(self, since: date | None = None) -> list[UsageRow]:
        with self._connect() as db:
            found = db.execute(
                "SELECT day, job, tag, calls, prompt_tokens, completion_tokens FROM usage WHERE day >= ? "
                "ORDER BY day, job, tag",
                ((since or date.min).isoformat(),),
            ).fetchall()
        return [UsageRow(**dict(r)) for r in found]

    def calls(self, job: str | None = None) -> int:
        return sum(r.calls for r in self.rows() if job is None or r.job == job)


def attach(app: App) -> None:
    """Book every call of the app's LLM in the ledger. Builds the LLM: call it only when a job needs one,
    so an idle tick never starts a model server."""
    ledger = UsageLedger.of(app)
    llm = app.llm

    def hook(tag: str, usage: Usage) -> None:
        ledger.add(app.clock().astimezone(app.profile.zone).date(), current_job.get(), tag, usage)

    if getattr(llm.on_usage, "ledger", None) != ledger.path:  # the same home's ledger is hooked once
        hook.ledger = ledger.path  # type: ignore[attr-defined]
        llm.on_usage = hook


@contextmanager
def tracking(job: str) -> Iterator[None]:
    token = current_job.set(job)
    try:
        yield
    finally:
        current_job.reset(token)
