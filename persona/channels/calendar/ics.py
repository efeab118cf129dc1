"""The embedded calendar: one .ics file per event UID in a folder (a vdir, readable by other tools)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from urllib.parse import quote, unquote
from zoneinfo import ZoneInfo

import icalendar

from persona.channels.calendar.base import CalendarBackend
from persona.channels.calendar.errors import EventNotFound, InvalidICS


class ICSBackend(CalendarBackend):
    def __init__(self, folder: Path, zone: ZoneInfo):
        super().__init__(zone)
        self.folder = folder

    def _path(self, uid: str) -> Path:
        return self.folder / f"{quote(uid, safe='@._-')}.ics"

    def load(self, uid: str) -> icalendar.Calendar:
        path = self._path(uid)
        if not path.exists():
            raise EventNotFound(f"no event with UID {uid} in {self.folder}")
        return _read(path)

    def store(self, uid: str, cal: icalendar.Calendar) -> bool:
        self.folder.mkdir(parents=True, exist_ok=True)
        path = self._path(uid)
        existed = path.exists()
        tmp = path.with_suffix(".ics.tmp")
        tmp.write_bytes(cal.to_ical())
        os.replace(tmp, path)  # atomic: a reader never sees half a file
        return existed

    def candidates(self, start: datetime, end: datetime) -> Iterator[icalendar.Calendar]:
        if self.folder.is_dir():
            for path in sorted(self.folder.glob("*.ics")):
                yield _read(path)

    def uids(self) -> list[str]:
        return sorted(unquote(p.stem) for p in self.folder.glob("*.ics")) if self.folder.is_dir() else []


def _read(path: Path) -> icalendar.Calendar:
    try:
        return icalendar.Calendar.from_ical(path.read_bytes())
    except ValueError as exc:
        raise InvalidICS(f"{path}: stored calendar object is damaged: {exc}") from None
