"""Recurrence expansion, bounded so that no calendar file can make a read slow or large.

Expanding a rule walks it from its first instance, so the cost of a query is every instance the rule
generates up to the query's end, not only those it returns. Two bounds, on every read of every file
(imported or written by hand, ICS or CalDAV):
- a rule that would generate more than MAX_EXPANSION instances by the end of the query is not
  expanded: the event is read as its first instance (and its overrides), and a warning names it;
- one query returns at most MAX_OCCURRENCES instances of one series.
Import refuses what no real calendar needs: FREQ=SECONDLY, FREQ=MINUTELY, and an INTERVAL below 1 (a
rule that never advances). HOURLY stays allowed (24 instances a day; MAX_EXPANSION covers eleven years).
"""

from __future__ import annotations

import copy
import logging
import sys
from datetime import date, datetime
from itertools import islice
from zoneinfo import ZoneInfo

import icalendar
import recurring_ical_events
from recurring_ical_events.occurrence import Occurrence
from recurring_ical_events.series import Series

from persona.channels.calendar.errors import InvalidICS
from persona.channels.calendar.models import CalEvent
from persona.channels.calendar.vevent import as_aware, to_event

MAX_OCCURRENCES = 2_000  # instances of one series in one query (an hourly series: 83 days)
MAX_EXPANSION = 100_000  # instances a rule may generate from its start to a query's end
REFUSED_FREQUENCIES = ("SECONDLY", "MINUTELY")

_LOG = logging.getLogger(__name__)
# Seconds of one period of each frequency, finest first; a month counts as its shortest.
_PERIOD = {
    "SECONDLY": 1,
    "MINUTELY": 60,
    "HOURLY": 3600,
    "DAILY": 86400,
    "WEEKLY": 7 * 86400,
    "MONTHLY": 28 * 86400,
    "YEARLY": 365 * 86400,
}
_RANK = {freq: rank for rank, freq in enumerate(_PERIOD)}
# Rule parts that add instances within a period when they are finer than its frequency.
_TIME_PARTS = {"BYSECOND": "SECONDLY", "BYMINUTE": "MINUTELY", "BYHOUR": "HOURLY"}
_DAY_PARTS = ("BYDAY", "BYMONTHDAY", "BYYEARDAY", "BYWEEKNO")
_DAYS_IN = {"WEEKLY": 7, "MONTHLY": 31, "YEARLY": 366}


def rules_of(component: icalendar.Component) -> list[icalendar.vRecur]:
    """The component's readable RRULEs (a broken one is reported by the parser, not here)."""
    raw = component.get("RRULE", [])
    return [rule for rule in (raw if isinstance(raw, list) else [raw]) if isinstance(rule, icalendar.vRecur)]


def frequency(rule: icalendar.vRecur) -> str:
    return str(rule.get("FREQ", [""])[0]).upper()


def refusal(rule: icalendar.vRecur) -> str | None:
    """Why import refuses this rule, if it does."""
    if frequency(rule) not in _PERIOD:
        return "has no FREQ"
    if frequency(rule) in REFUSED_FREQUENCIES:
        return f"FREQ={frequency(rule)} repeats more often than hourly"
    if _interval(rule) < 1:
        return f"INTERVAL={_interval(rule)} is not a positive number"
    return None


def expand(cal: icalendar.Calendar, start: datetime, end: datetime, zone: ZoneInfo) -> list[CalEvent]:
    """Every instance of every VEVENT in `cal` that overlaps [start, end), recurrences expanded within
    the bounds above, sorted by start."""
    recurring_uids = {
        str(c.get("UID")) for c in cal.walk("VEVENT") if "RRULE" in c or "RDATE" in c or "RECURRENCE-ID" in c
    }
    try:
        series = recurring_ical_events.of(_expandable(cal, end, zone)).series
        occurrences = [o.as_component(False) for s in series for o in _capped(s, start, end)]
    except (ValueError, TypeError, KeyError) as exc:
        raise InvalidICS(f"cannot expand recurring events: {exc}") from None
    events = [to_event(c, zone, str(c.get("UID")) in recurring_uids) for c in occurrences]
    return sorted(
        (e for e in events if e.start < end and (e.end > start or e.start >= start)),
        key=lambda e: (e.start, e.end, e.uid),
    )


def _expandable(cal: icalendar.Calendar, end: datetime, zone: ZoneInfo) -> icalendar.Calendar:
    """`cal`, or a copy without the rules that would generate more than MAX_EXPANSION instances."""
    dense = [i for i, c in enumerate(cal.walk("VEVENT")) if _instances(c, end, zone) > MAX_EXPANSION]
    if not dense:
        return cal
    cal = copy.deepcopy(cal)
    components = cal.walk("VEVENT")
    for i in dense:
        _LOG.warning(
            "calendar: event %s repeats too often to expand up to %s (over %d instances); "
            "read as its first instance",
            components[i].get("UID", "(no UID)"),
            end,
            MAX_EXPANSION,
        )
        components[i].pop("RRULE")
    return cal


def _capped(series: Series, start: datetime, end: datetime) -> list[Occurrence]:
    """The series' occurrences in [start, end), at most MAX_OCCURRENCES of them (generated lazily)."""
    found = list(islice(series.between(start, end), MAX_OCCURRENCES + 1))
    if len(found) > MAX_OCCURRENCES:
        _LOG.warning(
            "calendar: event %s has more than %d instances between %s and %s; the first %d are read",
            series.uid,
            MAX_OCCURRENCES,
            start,
            end,
            MAX_OCCURRENCES,
        )
    return found[:MAX_OCCURRENCES]


def _instances(component: icalendar.Component, end: datetime, zone: ZoneInfo) -> int:
    """An upper bound of the instances the component's rules generate from DTSTART up to `end`."""
    prop = component.get("DTSTART")
    first = getattr(prop, "dt", None) if isinstance(prop, icalendar.vDDDTypes) else None
    if not isinstance(first, date):
        return 0  # no usable start: the expansion reports the event
    return sum(_rule_instances(rule, as_aware(first, zone), end, zone) for rule in rules_of(component))


def _rule_instances(rule: icalendar.vRecur, first: datetime, end: datetime, zone: ZoneInfo) -> int:
    freq = frequency(rule)
    if freq not in _PERIOD:
        return 0
    if _interval(rule) < 1:
        return sys.maxsize  # a rule that never advances cannot be expanded at all
    if rule.get("UNTIL"):
        end = min(end, as_aware(rule["UNTIL"][0], zone))
    step = _PERIOD[freq] * _interval(rule)
    bound = max(0, int((end - first).total_seconds()) // step) + 1
    for part, unit in _TIME_PARTS.items():
        if part in rule and _RANK[freq] > _RANK[unit]:
            bound *= len(rule[part])
    if freq in _DAYS_IN and any(part in rule for part in _DAY_PARTS):
        bound *= _DAYS_IN[freq]
    elif freq == "YEARLY" and "BYMONTH" in rule:
        bound *= len(rule["BYMONTH"])
    return min(bound, int(rule["COUNT"][0])) if rule.get("COUNT") else bound


def _interval(rule: icalendar.vRecur) -> int:
    return int(rule.get("INTERVAL", [1])[0])
