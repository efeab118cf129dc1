"""A CalDAV calendar (Radicale, Nextcloud, Fastmail, ...) through the `caldav` client (3.x).

Recurrences are expanded on the client (the same code as the local backend), so results do not
depend on the server's expansion quirks. Busy time is computed from the events by default; with
`server_freebusy=True` it comes from the server's free-busy-query REPORT (falling back to events
when the server has none). Not the default: the events are fetched anyway, and a server's answer
is only as good as its time-zone handling. Radicale 3.9 (vobject) misreads the RDATE-style
VTIMEZONE that icalendar adds to a file that lacks one, and then shows a daily 09:30 New York
meeting at 10:30; and it places an all-day event on the UTC day rather than the owner's local
day (both seen in tests/calendar/test_caldav_radicale.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from zoneinfo import ZoneInfo

import caldav
import icalendar
from caldav.lib import error as dav_error

from persona.channels.calendar.base import CalendarBackend, merge_intervals
from persona.channels.calendar.errors import CalendarUnavailable, EventNotFound
from persona.channels.calendar.models import Interval
from persona.channels.calendar.vevent import as_aware


class CalDAVBackend(CalendarBackend):
    def __init__(
        self,
        url: str,
        zone: ZoneInfo,
        username: str | None = None,
        password: str | None = None,
        calendar: str | None = None,
        timeout: int = 30,
        server_freebusy: bool = False,
    ):
        """Connect and pick the calendar with display name `calendar` (created when missing), or
        the first one on the account."""
        super().__init__(zone)
        self.url = url
        self.server_freebusy = server_freebusy
        with _mapped(url):
            self.client = caldav.DAVClient(url=url, username=username, password=password, timeout=timeout)
            principal = self.client.principal()
            calendars = principal.get_calendars()
            named = [c for c in calendars if calendar is None or c.get_display_name() == calendar]
            if named:
                self.calendar = named[0]
            else:
                self.calendar = principal.make_calendar(name=calendar or "persona")

    def close(self) -> None:
        self.client.close()

    def _object(self, uid: str) -> caldav.Event:
        try:
            with _mapped(self.url):
                return self.calendar.get_event_by_uid(uid)
        except dav_error.NotFoundError:
            raise EventNotFound(f"no event with UID {uid} on {self.url}") from None

    def load(self, uid: str) -> icalendar.Calendar:
        return icalendar.Calendar.from_ical(self._object(uid).data)

    def store(self, uid: str, cal: icalendar.Calendar) -> bool:
        data = cal.to_ical().decode("utf-8")
        try:
            existing = self._object(uid)
        except EventNotFound:
            with _mapped(self.url):
                self.calendar.add_event(data, increase_seqno=False)
            return False
        with _mapped(self.url):
            existing.data = data
            existing.save(increase_seqno=False)
        return True

    def candidates(self, start: datetime, end: datetime) -> Iterator[icalendar.Calendar]:
        with _mapped(self.url):
            found = self.calendar.search(start=start, end=end, event=True, expand=False)
        for item in found:
            yield icalendar.Calendar.from_ical(item.data)

    def busy(self, start: datetime, end: datetime) -> list[Interval]:
        if not self.server_freebusy:
            return super().busy(start, end)
        try:
            with _mapped(self.url):
                answer = self.calendar.freebusy_request(start, end)
            periods = icalendar.Calendar.from_ical(answer.data).walk("VFREEBUSY")
        except (CalendarUnavailable, dav_error.DAVError, ValueError):
            return super().busy(start, end)  # the server has no free-busy-query: compute it
        intervals = []
        for vfb in periods:
            raw = vfb.get("FREEBUSY", [])
            for prop in raw if isinstance(raw, list) else [raw]:
                if str(prop.params.get("FBTYPE", "BUSY")).upper() == "FREE":
                    continue
                for period_start, period_end in _periods(prop):
                    s = as_aware(period_start, self.zone).astimezone(self.zone)
                    e = as_aware(period_end, self.zone).astimezone(self.zone)
                    if e > start and s < end:
                        intervals.append(Interval(start=max(s, start), end=min(e, end)))
        return merge_intervals(intervals)


def _periods(prop) -> list[tuple[datetime, datetime]]:
    """FREEBUSY values: one or more PERIODs as (start, end) or (start, duration)."""
    values = prop.dt if isinstance(prop.dt, list) else [prop.dt]
    result = []
    for value in values:
        value = getattr(value, "dt", value)
        start, second = value
        result.append((start, second if isinstance(second, datetime) else start + second))
    return result


@contextmanager
def _mapped(url: str) -> Iterator[None]:
    """Turn connection and login failures into one-line CalendarUnavailable errors."""
    try:
        yield
    except dav_error.NotFoundError:
        raise
    except dav_error.AuthorizationError:
        raise CalendarUnavailable(f"{url}: the CalDAV server refused the login") from None
    except (dav_error.DAVError, OSError) as exc:
        raise CalendarUnavailable(f"{url}: CalDAV request failed: {exc}") from None
