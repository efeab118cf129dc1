"""Reading the calendar: the owner's agenda, the owner's free time, and what others may learn of it.

Everything here reads; nothing changes. What a colleague, contact or stranger is told goes through
the calendar's visibility rules first (persona.channels.calendar.visibility).
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta

from pydantic import BaseModel, Field

from persona.channels.calendar import redact_for
from persona.channels.calendar.models import CalEvent, Interval, Status
from persona.skills.event_refs import describe, find_events
from persona.skills.meeting_request import days_in, parse_meeting_request
from persona.skills.people import name_of, people_named
from persona.skills.schedule import free_gaps
from persona.skills.turn import Outcome, Turn

RANGE_DAYS = 14  # the longest stretch one agenda answer lists
_MIN_GAP = timedelta(minutes=15)


class AgendaArgs(BaseModel):
    """The owner's calendar for a day or a range: titles, times, attendees; or when a named meeting is."""

    when: str = Field(default="", description="the words that say which day(s), e.g. 'tomorrow', 'next week'")
    meeting: str = Field(default="", description="a meeting to look for, e.g. 'my next 1:1 with Tomasz'")


class FreeTimeArgs(BaseModel):
    """When the owner is free: free stretches in a day or range, or whether one time is free."""

    when: str = Field(default="", description="the words that say when")
    minutes: int | None = Field(default=None, ge=5, le=600, description="the length needed")


def _days(turn: Turn, words: str) -> list[date]:
    zone = turn.app.profile.zone
    today = turn.now.astimezone(zone).date()
    days = days_in(words, today, zone)
    if not days:
        return [today]
    return [d for d in days if d <= days[0] + timedelta(days=RANGE_DAYS - 1)]


def _events(turn: Turn, days: list[date]) -> list[CalEvent]:
    zone = turn.app.profile.zone
    start = datetime.combine(days[0], time(0), zone)
    end = datetime.combine(days[-1] + timedelta(days=1), time(0), zone)
    wanted = set(days)
    return [
        e
        for e in turn.app.calendar.events(start, end)
        if e.status is not Status.CANCELLED and _local_days(e, turn) & wanted
    ]


def _local_days(event: CalEvent, turn: Turn) -> set[date]:
    zone = turn.app.profile.zone
    first, last = (
        event.start.astimezone(zone).date(),
        (event.end - timedelta(seconds=1)).astimezone(zone).date(),
    )
    return {first + timedelta(days=n) for n in range((last - first).days + 1)}


def _line(turn: Turn, event: CalEvent, *, people: bool) -> str:
    zone = turn.app.profile.zone
    start, end = event.start.astimezone(zone), event.end.astimezone(zone)
    when = "all day" if event.all_day else f"{start:%H:%M}–{end:%H:%M}"
    extra = []
    if people:
        guests = [
            name_of(turn.app.profile, a.email)
            for a in event.attendees
            if not turn.app.profile.is_owner(a.email)
        ]
        if guests:
            extra.append("with " + ", ".join(guests))
        if event.location:
            extra.append(event.location)
        if event.status is Status.TENTATIVE:
            extra.append("tentative")
    return f"- {when} {event.summary or 'busy'}" + (f" ({'; '.join(extra)})" if extra else "")


def _listing(turn: Turn, events: list[CalEvent], days: list[date], *, people: bool) -> str:
    lines = []
    for day in days:
        todays = [e for e in events if day in _local_days(e, turn)]
        if len(days) > 1 and not todays:
            continue
        lines.append(f"{day:%A %-d %B}:" if todays else f"{day:%A %-d %B}: nothing")
        lines += [
            _line(turn, e, people=people) for e in sorted(todays, key=lambda e: (not e.all_day, e.start))
        ]
    if not lines:
        return f"Nothing between {days[0]:%A %-d %B} and {days[-1]:%A %-d %B}."
    return "\n".join(lines)


def agenda(turn: Turn, args: AgendaArgs) -> Outcome:
    """The owner's own calendar, everything shown."""
    if args.meeting or _asks_when(turn.text):
        found = find_events(turn.app.calendar, turn.app.profile, args.meeting or turn.text, turn.now)
        if found.events and found.clear:
            event = found.events[0]
            day = event.start.astimezone(turn.app.profile.zone).date()
            others = [e for e in _events(turn, [day]) if e.uid != event.uid or e.start != event.start]
            rest = (
                ("\nAlso that day:\n" + "\n".join(_line(turn, e, people=True) for e in others))
                if others
                else ""
            )
            return Outcome(reply=f"{describe(event, turn.app.profile.zone)}." + _with(turn, event) + rest)
        if found.events:
            listed = "; ".join(describe(e, turn.app.profile.zone) for e in found.events[:3])
            return Outcome(reply=f"Several meetings could be meant: {listed}.")
    days = _days(turn, args.when or turn.text)
    events = _events(turn, days)
    named = {
        c
        for n in people_named(turn.app.profile, turn.text)
        for c in n.candidates
        if not turn.app.profile.is_owner(c)
    }
    if named:  # "do I see Bruce this week?": only the meetings with them
        events = [e for e in events if _involves(turn, e, named)]
        if not events:
            who = ", ".join(name_of(turn.app.profile, a) for a in sorted(named))
            return Outcome(
                reply=f"No meetings with {who} between {days[0]:%A %-d %B} and {days[-1]:%A %-d %B}."
            )
    return Outcome(reply=_listing(turn, events, days, people=True))


def _involves(turn: Turn, event: CalEvent, people: set[str]) -> bool:
    """The event has one of `people` as an attendee, or their name in its title."""
    title = event.summary.lower()
    names = {part.lower() for a in people for part in name_of(turn.app.profile, a).split()}
    return bool(people & {a.email for a in event.attendees}) or any(n in title.split() for n in names)


def _asks_when(text: str) -> bool:
    lowered = text.lower()
    return (
        lowered.lstrip().startswith(("when", "what time")) or " when is " in lowered or " when's " in lowered
    )


def _with(turn: Turn, event: CalEvent) -> str:
    guests = [
        name_of(turn.app.profile, a.email) for a in event.attendees if not turn.app.profile.is_owner(a.email)
    ]
    return f" With {', '.join(guests)}." if guests else ""


def _free(turn: Turn, words: str, minutes: int | None) -> tuple[list[Interval], list[Interval], int, bool]:
    """(the asked windows, the free stretches in them, the length looked for, whether one exact time was asked)."""
    profile = turn.app.profile
    constraints = parse_meeting_request(words or turn.text, turn.now, profile.zone, length_known=True)
    length = minutes or (constraints.duration_minutes if not constraints.duration_defaulted else None)
    if constraints.needs_clarification or not constraints.windows:
        days = _days(turn, words or turn.text)
        zone = profile.zone
        windows = [
            Interval(
                start=datetime.combine(d, time(0), zone),
                end=datetime.combine(d + timedelta(days=1), time(0), zone),
            )
            for d in days
        ]
    else:
        windows = constraints.intervals()
    exact = bool(windows) and all(w.end - w.start <= timedelta(minutes=(length or 30) + 1) for w in windows)
    start = min(w.start for w in windows) - timedelta(days=1)
    end = max(w.end for w in windows) + timedelta(days=1)
    busy = turn.app.calendar.busy(start, end)
    after = _next_quarter(turn.now)
    gaps = free_gaps(
        windows,
        busy,
        profile.working_hours,
        profile.zone,
        after=after,
        min_length=timedelta(minutes=length) if length else _MIN_GAP,
    )
    return windows, gaps, length or 0, exact


def _next_quarter(moment: datetime) -> datetime:
    minutes = -(-(moment.minute + (moment.second > 0)) // 15) * 15
    return moment.replace(minute=0, second=0, microsecond=0) + timedelta(minutes=minutes)


def _gap_lines(turn: Turn, gaps: list[Interval]) -> str:
    zone = turn.app.profile.zone
    by_day: dict[date, list[str]] = {}
    for gap in gaps:
        start, end = gap.start.astimezone(zone), gap.end.astimezone(zone)
        by_day.setdefault(start.date(), []).append(f"{start:%H:%M}–{end:%H:%M}")
    return "\n".join(f"- {day:%A %-d %B}: {', '.join(spans)}" for day, spans in by_day.items())


def free_time(turn: Turn, args: FreeTimeArgs) -> Outcome:
    windows, gaps, length, exact = _free(turn, args.when, args.minutes)
    zone = turn.app.profile.zone
    if exact:
        window = windows[0]
        start, end = window.start.astimezone(zone), window.end.astimezone(zone)
        if any(g.start <= window.start and window.end <= g.end for g in gaps):
            return Outcome(reply=f"Yes: you're free on {start:%A %-d %B}, {start:%H:%M}–{end:%H:%M}.")
        clash = [e for e in turn.app.calendar.events(window.start, window.end) if e.busy]
        why = (
            f" ({', '.join(describe(e, zone) for e in clash)})" if clash else " (outside your working hours)"
        )
        return Outcome(reply=f"No: {start:%A %-d %B}, {start:%H:%M}–{end:%H:%M} is taken{why}.")
    taken = _busy_lines(turn, windows, redact=False)
    if not gaps:
        need = f" {length} minutes" if length else ""
        return Outcome(reply=f"You have no free{need} time then within your working hours.{taken}")
    need = f" (at least {length} minutes)" if length else ""
    return Outcome(reply=f"You're free{need}:\n{_gap_lines(turn, gaps)}{taken}")


def _busy_lines(turn: Turn, windows: list[Interval], *, redact: bool) -> str:
    """What fills the asked windows, as the asker may see it ("" when nothing does)."""
    events = {
        (e.uid, e.start): e for w in windows for e in turn.app.calendar.events(w.start, w.end) if e.busy
    }
    shown = redact_for(turn.principal, list(events.values())) if redact else list(events.values())
    if not shown:
        return ""
    return "\nBusy:\n" + "\n".join(_line(turn, e, people=False) for e in sorted(shown, key=lambda e: e.start))


def availability(turn: Turn, args: FreeTimeArgs) -> Outcome:
    """What someone else may learn: free stretches, and the busy blocks their role may see."""
    me = turn.owner_first
    windows, gaps, _length, exact = _free(turn, args.when, args.minutes)
    zone = turn.app.profile.zone
    if exact:
        window = windows[0]
        start, end = window.start.astimezone(zone), window.end.astimezone(zone)
        free = any(g.start <= window.start and window.end <= g.end for g in gaps)
        state = "free" if free else "not free"
        return Outcome(
            reply=f"{me} is {state} on {start:%A %-d %B}, {start:%H:%M}–{end:%H:%M}."
            + (" Shall I ask for that time?" if free else "")
        )
    shown = _busy_lines(turn, windows, redact=True)
    if not gaps:
        return Outcome(reply=f"{me} has no free time then within working hours.{shown}")
    return Outcome(
        reply=f"{me} is free:\n{_gap_lines(turn, gaps)}{shown}\nI can ask {me} to hold one of those for you."
    )
