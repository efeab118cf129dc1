"""Which calendar event a request means: "my 1:1 with Tomasz", "the budget sync on Friday", "my 3pm".

Rules, not a model: the words of the request are matched against each upcoming event's title and
attendees, restricted to the days and the clock time the request names. Words every meeting shares
("meeting", "call") count for little; a title word or a person counts fully. When several different
events fit equally well, the caller asks which one instead of picking.
"""

from __future__ import annotations

import re
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from pydantic import BaseModel

from persona.channels.calendar.base import CalendarBackend
from persona.channels.calendar.models import CalEvent, Status
from persona.profile import Profile
from persona.skills.meeting_request import days_in
from persona.skills.people import people_named

HORIZON_DAYS = 45  # how far ahead a request without a day looks for its event
_GENERIC = {
    "meeting",
    "meetings",
    "call",
    "calls",
    "sync",
    "chat",
    "session",
    "appointment",
    "appt",
    "event",
    "thing",
    "catch",
    "catchup",
    "review",
    "invite",
    "block",
    "slot",
    "time",
    "talk",
    "check",
    "huddle",
}
_STOP = {
    "a",
    "an",
    "the",
    "my",
    "our",
    "me",
    "i",
    "it",
    "to",
    "for",
    "on",
    "at",
    "in",
    "of",
    "with",
    "and",
    "or",
    "from",
    "this",
    "that",
    "next",
    "coming",
    "upcoming",
    "please",
    "can",
    "could",
    "you",
    "would",
    "should",
    "we",
    "is",
    "are",
    "be",
    "by",
    "up",
    "out",
    "off",
    "back",
    "forward",
    "later",
    "earlier",
    "instead",
    "week",
    "today",
    "tomorrow",
    "morning",
    "afternoon",
    "evening",
    "am",
    "pm",
    "hour",
    "hours",
    "minutes",
    "mins",
    "min",
    "day",
    "move",
    "push",
    "reschedule",
    "shift",
    "postpone",
    "bring",
    "pull",
    "bump",
    "delay",
    "cancel",
    "call",
    "scrap",
    "delete",
    "remove",
    "drop",
    "skip",
    "kill",
    "axe",
    "clear",
    "when",
    "what",
    "where",
    "s",
    "do",
    "have",
    "has",
    "don't",
    "dont",
    "make",
    "won't",
    "can't",
    "just",
    "so",
    "its",
    "it's",
    "let's",
    "lets",
    "again",
    "all",
    "any",
    "one",
    "both",
    "there",
    "their",
    "them",
    "he",
    "she",
    "they",
    "his",
    "her",
    "time",
    "some",
}
_WEEKDAY_WORDS = re.compile(r"^(?:mon|tue|tues|wed|thu|thur|thurs|fri|sat|sun)(?:day|nesday|rsday|urday)?s?$")
_CLOCK = re.compile(r"\b(\d{1,2})(?::(\d{2}))?\s*(am|pm)\b|\b(\d{1,2}):(\d{2})\b|\b(noon)\b")
_ONE_ON_ONE = re.compile(r"\b(?:1:1|1-1|1on1|1-on-1|one[- ]on[- ]one|one to one|1 ?to ?1)\b")


class EventRef(BaseModel):
    """The events a request may mean, best first; `clear` when one stands out. `pinned`: the words name
    it by more than a person (a title word, a day or a time), so others with that person are not meant."""

    events: list[CalEvent] = []
    clear: bool = False
    pinned: bool = False


def _tokens(text: str) -> list[str]:
    """Words to match on: "stand-up" and "standup" are one, "1:1" and "one-on-one" too."""
    text = _ONE_ON_ONE.sub(" oneonone ", text.lower())
    return [t.strip("'.").replace("-", "") for t in re.findall(r"[a-z0-9][a-z0-9'&.-]*", text)]


def _clock(text: str) -> time | None:
    match = _CLOCK.search(text.lower())
    if not match:
        return None
    if match.group(6):
        return time(12)
    if match.group(1):
        hour, minute, ap = int(match.group(1)), int(match.group(2) or 0), match.group(3)
        hour = hour % 12 + (12 if ap == "pm" else 0)
        return time(hour, minute) if hour < 24 and minute < 60 else None
    hour, minute = int(match.group(4)), int(match.group(5))
    return time(hour, minute) if hour < 24 and minute < 60 else None


def find_events(
    calendar: CalendarBackend, profile: Profile, words: str, now: datetime, *, days: list[date] | None = None
) -> EventRef:
    """The upcoming events `words` refer to (from now, on the named days, or within HORIZON_DAYS)."""
    zone: ZoneInfo = profile.zone
    today = now.astimezone(zone).date()
    named_days = days if days is not None else days_in(words, today, zone)
    if named_days:
        start = max(now, datetime.combine(named_days[0], time(0), zone))
        end = datetime.combine(named_days[-1] + timedelta(days=1), time(0), zone)
    else:
        start, end = now, now + timedelta(days=HORIZON_DAYS)
    at = _clock(words)
    people = {c for n in people_named(profile, words) for c in n.candidates if not profile.is_owner(c)}
    wanted = [t for t in _tokens(words) if t not in _STOP and not _WEEKDAY_WORDS.match(t) and not t.isdigit()]
    scored: list[tuple[float, CalEvent]] = []
    for event in calendar.events(start, end):
        if event.status is Status.CANCELLED or event.end <= now:
            continue
        local = event.start.astimezone(zone)
        if named_days and local.date() not in named_days:
            continue
        if at is not None and local.time() != at:
            continue
        score = _score(event, wanted, people, profile)
        if score > 0 or (at is not None and named_days) or (at is not None and not wanted and not people):
            scored.append((score, event))
    if not scored:
        return EventRef()
    best = max(s for s, _ in scored)
    top = [e for s, e in scored if s == best]
    by_series = list({e.uid: e for e in sorted(top, key=lambda e: e.start, reverse=True)}.values())
    by_series.sort(key=lambda e: e.start)  # each series by its next occurrence, soonest first
    others = [
        e for s, e in sorted(scored, key=lambda p: (-p[0], p[1].start)) if e.uid not in {t.uid for t in top}
    ]
    first = by_series[0]
    person_words = {t for a in people for t in _tokens(_name(profile, a))}
    titled = any(t in set(_tokens(first.summary)) - person_words for t in wanted if t not in _GENERIC)
    return EventRef(
        events=[*by_series, *others][:5],
        clear=len(by_series) == 1,
        pinned=titled or bool(named_days) or at is not None,
    )


def _score(event: CalEvent, wanted: list[str], people: set[str], profile: Profile) -> float:
    title = set(_tokens(event.summary))
    guests = {a.email for a in event.attendees}
    names = set(_tokens(" ".join(a.name for a in event.attendees)))
    for address in guests:
        person = profile.person_for(address)
        if person is not None:
            names |= set(_tokens(person.name))
    score = 0.0
    for token in wanted:
        if token in title:
            score += 0.3 if token in _GENERIC else 1.0
        elif token in names:
            score += 1.0
        elif len(token) > 4 and any(t.startswith(token[:5]) for t in title):  # "budgets" / "budget"
            score += 0.6
    for address in people:
        if any(part in title for part in _tokens(_name(profile, address))):
            score += 1.5  # in the title: "1:1 Elena / Theo" is the Theo one
        elif address in guests:
            score += 1.0 / len(guests)  # one attendee among many says little
        else:
            return 0.0  # a named person who is not in the event: not this one
    return score


def _name(profile: Profile, address: str) -> str:
    person = profile.person_for(address)
    return person.name if person else address


def describe(event: CalEvent, zone: ZoneInfo) -> str:
    """“Budget sync” on Friday 12 March, 10:00–10:45: how the twin names an event to people."""
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    if event.all_day:
        return f"“{event.summary or 'busy'}” on {start:%A %-d %B} (all day)"
    return f"“{event.summary or 'busy'}” on {start:%A %-d %B}, {start:%H:%M}–{end:%H:%M}"
