"""Import an existing .ics file into a backend, refusing a broken file with the line and the problem."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from zoneinfo import ZoneInfo

import icalendar

from persona.channels.calendar.base import CalendarBackend
from persona.channels.calendar.errors import InvalidICS
from persona.channels.calendar.models import ImportSummary
from persona.channels.calendar.recurrence import refusal, rules_of
from persona.channels.calendar.vevent import as_aware, wrap

_CONTENT_LINE = re.compile(r"^[A-Za-z0-9-]+(;[^:]*)?:")


@dataclass
class _Outline:
    """Where each VEVENT of the file starts and ends (1-based physical lines), in document order."""

    events: list[tuple[int, int]] = field(default_factory=list)
    lines: list[tuple[int, str]] = field(default_factory=list)  # (line number, unfolded content line)


def import_ics(backend: CalendarBackend, path: Path) -> ImportSummary:
    """Store every VEVENT of `path` (grouped by UID: series + overrides) in `backend`.

    The whole file is checked before anything is written, so a broken file imports nothing.
    """
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise InvalidICS(f"{path}: cannot read: {exc.strerror}") from None
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise InvalidICS(f"{path}: line {line}: not UTF-8 text") from None
    outline = _outline(path, text)
    try:
        calendars = icalendar.Calendar.from_ical(text, multiple=True)
    except ValueError as exc:
        raise InvalidICS(f"{path}: not a valid iCalendar file: {exc}") from None
    vevents = [c for cal in calendars for c in cal.walk("VEVENT")]
    timezones = [c for cal in calendars for c in cal.walk("VTIMEZONE")]
    summary = ImportSummary(path=str(path))
    groups: dict[str, list[icalendar.Component]] = {}
    for index, component in enumerate(vevents):
        first, last = outline.events[index]
        _check(path, component, outline, first, last, backend.zone)
        uid = str(component.get("UID") or "") or _derived_uid(component)
        groups.setdefault(uid, []).append(component)
    for cal in calendars:
        for kind in ("VTODO", "VJOURNAL"):
            for component in cal.walk(kind):
                summary.skipped.append(f"{kind} {component.get('UID', '')}: not an event".rstrip())
    for uid, components in groups.items():
        for component in components:
            if "UID" not in component:
                component.add("UID", uid)
        cal = wrap([*timezones, *components])
        if backend.store(uid, cal):
            summary.updated += 1
        else:
            summary.created += 1
        if any("RRULE" in c or "RDATE" in c for c in components):
            summary.recurring += 1
    return summary


def _outline(path: Path, text: str) -> _Outline:
    """Unfold lines and check BEGIN/END nesting, naming the first bad line."""
    outline = _Outline()
    for number, line in enumerate(text.splitlines(), start=1):
        if line[:1] in (" ", "\t") and outline.lines:
            prev_number, prev = outline.lines[-1]
            outline.lines[-1] = (prev_number, prev + line[1:])
        elif line.strip():
            outline.lines.append((number, line))
    if not outline.lines or outline.lines[0][1].strip().upper() != "BEGIN:VCALENDAR":
        first = outline.lines[0][0] if outline.lines else 1
        raise InvalidICS(f"{path}: line {first}: an iCalendar file must start with BEGIN:VCALENDAR")
    stack: list[tuple[str, int]] = []
    for number, line in outline.lines:
        if not _CONTENT_LINE.match(line):
            raise InvalidICS(f"{path}: line {number}: not an iCalendar content line: {line[:60]!r}")
        name, _, value = line.partition(":")
        name, value = name.upper(), value.strip().upper()
        if name == "BEGIN":
            stack.append((value, number))
        elif name == "END":
            if not stack or stack[-1][0] != value:
                opened = f"BEGIN:{stack[-1][0]} from line {stack[-1][1]}" if stack else "nothing"
                raise InvalidICS(f"{path}: line {number}: END:{value} does not close {opened}")
            kind, begun = stack.pop()
            if kind == "VEVENT":
                outline.events.append((begun, number))
    if stack:
        kind, begun = stack[-1]
        raise InvalidICS(f"{path}: line {begun}: BEGIN:{kind} is never closed by END:{kind}")
    outline.events.sort()
    return outline


def _check(
    path: Path, component: icalendar.Component, outline: _Outline, first: int, last: int, zone: ZoneInfo
) -> None:
    uid = str(component.get("UID", "")) or "(no UID)"

    def line(prop: str) -> int:
        return next(
            (n for n, text in outline.lines if first <= n <= last and text.upper().startswith(prop)), first
        )

    if "DTSTART" not in component:
        raise InvalidICS(f"{path}: line {first}: event {uid} has no DTSTART")
    for prop, message in getattr(component, "errors", []):
        raise InvalidICS(f"{path}: line {line(str(prop).upper())}: event {uid}: {prop}: {message}")
    for why in filter(None, map(refusal, rules_of(component))):
        raise InvalidICS(f"{path}: line {line('RRULE')}: event {uid}: RRULE {why}; not imported")
    try:
        start = as_aware(component.start, zone)
        end = start + component.duration if "DURATION" in component else as_aware(component.end, zone)
    except ValueError as exc:  # icalendar's InvalidCalendar: DTEND and DURATION both, say
        raise InvalidICS(f"{path}: line {first}: event {uid}: {exc}") from None
    if end < start:
        where = line("DTEND") if "DTEND" in component else line("DURATION")
        raise InvalidICS(f"{path}: line {where}: event {uid} ends ({end}) before it starts ({start})")


def _derived_uid(component: icalendar.Component) -> str:
    """A stable UID for an event that has none, so importing the same file twice does not duplicate."""
    digest = hashlib.sha1(component.to_ical()).hexdigest()[:16]
    return f"{digest}@import.persona-twin"
