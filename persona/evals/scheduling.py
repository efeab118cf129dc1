"""The scheduling eval: natural-language requests -> proposed slot, scored against the set of
acceptable slots (or against "clarify" when the right answer is a question).

Each item runs the real path: its owner's .ics file imported into a throwaway local calendar,
`parse_meeting_request` (rules, then the LLM), busy time from the backend, `find_slots`.
"""

from __future__ import annotations

import json
import tempfile
from collections.abc import Callable
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any, Literal
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from persona.channels.calendar import ICSBackend, import_ics
from persona.errors import LLMUnavailable
from persona.profile import WorkingHours
from persona.skills.meeting_request import LLMJson, parse_meeting_request
from persona.skills.schedule import Preferences, find_slots

Progress = Callable[[int, int, "ItemResult"], None]


class _Owner(BaseModel):
    timezone: str
    calendar: str
    working_hours: WorkingHours = WorkingHours()


class _Expected(BaseModel):
    duration_minutes: int
    starts: list[tuple[datetime, datetime]]  # inclusive ranges of acceptable starts, owner's local time


class _Item(BaseModel):
    id: str
    owner: str
    sent_at: datetime
    message: str
    preferences: Preferences = Preferences()
    expect: Literal["clarify"] | _Expected


class _Dataset(BaseModel):
    owners: dict[str, _Owner]
    items: list[_Item]


class ItemResult(BaseModel):
    id: str
    correct: bool
    expected: str  # "clarify" or "N min slot"
    got: str  # "clarify: <question>", "<start> (<N> min)" or "no slot"
    understood_by: str = "rules"


class SchedulingReport(BaseModel):
    total: int
    correct: int
    accuracy: float
    items: list[ItemResult]


def run_scheduling_eval(
    dataset_path: Path, llm: LLMJson | None, progress: Progress | None = None
) -> SchedulingReport:
    """Run every item of the dataset; `llm` answers what the rules cannot (None: rules only)."""
    dataset = _Dataset.model_validate(json.loads(dataset_path.read_text(encoding="utf-8")))
    results: list[ItemResult] = []
    with tempfile.TemporaryDirectory(prefix="persona-scheduling-") as scratch:
        backends: dict[str, ICSBackend] = {}
        for name, owner in dataset.owners.items():
            backends[name] = ICSBackend(Path(scratch) / name, ZoneInfo(owner.timezone))
            import_ics(backends[name], dataset_path.parent / owner.calendar)
        for item in dataset.items:
            result = _run_item(item, dataset.owners[item.owner], backends[item.owner], llm)
            results.append(result)
            if progress is not None:
                progress(len(results), len(dataset.items), result)
    correct = sum(r.correct for r in results)
    return SchedulingReport(
        total=len(results),
        correct=correct,
        accuracy=correct / len(results) if results else 0.0,
        items=results,
    )


def _run_item(item: _Item, owner: _Owner, backend: ICSBackend, llm: LLMJson | None) -> ItemResult:
    zone = ZoneInfo(owner.timezone)
    expected = "clarify" if item.expect == "clarify" else f"{item.expect.duration_minutes} min slot"
    try:
        constraints = parse_meeting_request(item.message, item.sent_at, zone, llm=llm)
    except LLMUnavailable as exc:  # one bad answer is a wrong item, not a failed run
        return ItemResult(
            id=item.id, correct=False, expected=expected, got=f"error: {exc}", understood_by="llm"
        )
    if constraints.needs_clarification:
        return ItemResult(
            id=item.id,
            correct=item.expect == "clarify",
            expected=expected,
            got=f"clarify: {constraints.question}",
            understood_by=constraints.understood_by,
        )
    allowed = constraints.intervals()
    start, end = min(a.start for a in allowed), max(a.end for a in allowed)
    events = [e for e in backend.events(start - timedelta(days=1), end + timedelta(days=1)) if e.busy]
    busy = [e.interval for e in events]
    meetings = [e.interval for e in events if not e.all_day]
    query = constraints.slot_query(busy, meetings, now=item.sent_at)
    slots = find_slots(query, owner.working_hours, zone, item.preferences, limit=1)
    if not slots:
        return ItemResult(
            id=item.id,
            correct=False,
            expected=expected,
            got="no slot",
            understood_by=constraints.understood_by,
        )
    top = slots[0]
    minutes = int((top.end - top.start).total_seconds() // 60)
    return ItemResult(
        id=item.id,
        correct=_accepts(item.expect, top.start, minutes, zone),
        expected=expected,
        got=f"{top.start.astimezone(zone):%a %Y-%m-%d %H:%M} ({minutes} min)",
        understood_by=constraints.understood_by,
    )


def _accepts(expect: Any, start: datetime, minutes: int, zone: ZoneInfo) -> bool:
    if expect == "clarify" or minutes != expect.duration_minutes:
        return False
    local = start.astimezone(zone).replace(tzinfo=None)
    return any(low <= local <= high for low, high in expect.starts)
