"""Meetings: the owner books, moves and cancels their own; anyone else asks for the owner's time.

Every time offered or written is a slot of the exact solver on the owner's calendar; days, times and
lengths come from the scheduling parser; people from the profile. Each change is an Action through
the gate: the owner's own direct request runs, a request from anyone else waits for the owner. The
reply says what the gate decided, never more.
"""

from __future__ import annotations

import re
from datetime import datetime, time, timedelta

from pydantic import BaseModel, Field

from persona.channels.calendar.delivery import tentative_event_payload
from persona.channels.calendar.models import CalEvent
from persona.events import Action, ActionKind, Provenance, Source, Verdict
from persona.profile import Role
from persona.skills.event_refs import describe, find_events
from persona.skills.meeting_request import DayWindow, MeetingConstraints, days_in, parse_meeting_request
from persona.skills.people import name_of, resolve
from persona.skills.propose_meeting import free_slots, slots_or_alternatives
from persona.skills.schedule import Slot
from persona.skills.turn import Done, Option, Outcome, Question, Turn

_FOCUS = re.compile(
    r"\b(?:focus|deep work|heads[- ]down|block(?:ed)? (?:out|off)?|no meetings|think(?:ing)? time|"
    r"prep(?:aration)? time)\b",
    re.IGNORECASE,
)
_SHIFT = re.compile(
    r"\b(?:by\s+)?(?P<n>an?|one|half an|\d+(?:\.\d+)?|fifteen|thirty|forty[- ]five|ninety)\s*"
    r"(?P<unit>hours?|hrs?|h|minutes?|mins?|m)\b\s*(?P<dir>later|earlier|back|forward|ahead|sooner)?",
    re.IGNORECASE,
)
_NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "half an": 0.5,
    "fifteen": 15,
    "thirty": 30,
    "forty five": 45,
    "ninety": 90,
}
_ANCHOR = re.compile(
    r"\b(?P<side>after|before)\s+(?:the|my|our|her|his|their|\w+'s)\s+(?P<what>[^,.;!?]{3,40}?)"
    r"(?=\s*(?:[,.;!?]|$)|\s+(?:on|with|and|so|to|for|if|ideally|please|tomorrow|today|next|this)\b)",
    re.IGNORECASE,
)
_TO = re.compile(
    r"\s(?:to|till|until|for|into|onto|over to)\s(?=.*?(?:\d|day|tomorrow|today|week|morning|afternoon|"
    r"evening|noon|lunch|mon|tue|wed|thu|fri))",
    re.IGNORECASE,
)


class BookArgs(BaseModel):
    """Book a meeting in the owner's calendar, with people or alone (a focus block)."""

    people: list[str] = Field(
        default=[], description="who to meet: names of the owner's people, or addresses"
    )
    when: str = Field(default="", description="the words that say when, e.g. 'next Tuesday afternoon'")
    minutes: int | None = Field(default=None, ge=5, le=600, description="how long")
    title: str = Field(default="", max_length=80, description="what it is about")
    start: str = Field(
        default="", description="an exact start the owner chose (ISO), from the twin's options"
    )


class MoveArgs(BaseModel):
    """Move one of the owner's meetings to another time."""

    meeting: str = Field(default="", description="the words that name the meeting, e.g. 'my 1:1 with Tomasz'")
    to: str = Field(default="", description="the words that say the new time, e.g. 'Thursday afternoon'")
    uid: str = Field(default="", description="the event's id, when already known")
    occurrence: str = Field(default="", description="the start of the occurrence meant (ISO), when known")
    start: str = Field(default="", description="an exact new start the owner chose (ISO)")


class CancelArgs(BaseModel):
    """Cancel one of the owner's meetings."""

    meeting: str = Field(
        default="", description="the words that name the meeting, e.g. 'the budget sync on Friday'"
    )
    uid: str = Field(default="", description="the event's id, when already known")
    occurrence: str = Field(default="", description="the start of the occurrence meant (ISO), when known")


class RequestArgs(BaseModel):
    """Ask for time with the owner: the twin finds a free slot and asks the owner to confirm it."""

    people: list[str] = Field(default=[], description="others to invite besides the person asking")
    when: str = Field(default="", description="the words that say when")
    minutes: int | None = Field(default=None, ge=5, le=480)
    title: str = Field(default="", max_length=80)
    start: str = Field(
        default="", description="an exact start the asker chose (ISO), from the twin's options"
    )


# --- shared pieces ------------------------------------------------------------------------------
def _when(
    turn: Turn,
    words: str,
    minutes: int | None,
    *,
    length_known: bool = False,
    said_at: datetime | None = None,
) -> MeetingConstraints:
    """The constraints the words say; `said_at`: the moment days are counted from (default now)."""
    profile = turn.app.profile
    text = _anchored(turn, words or turn.text)
    constraints = parse_meeting_request(
        text,
        said_at or turn.now,
        profile.zone,
        owner_emails=profile.owner.emails,
        length_known=length_known or minutes is not None,
    )
    if minutes is not None:
        constraints = constraints.model_copy(
            update={"duration_minutes": minutes, "duration_defaulted": False}
        )
    return constraints


def _anchored(turn: Turn, text: str) -> str:
    """'after the audit kick-off' -> 'after 11:00', when the calendar holds that one event on the day the
    text names (or soon): the parser reads clock times, the calendar knows when meetings end."""
    zone = turn.app.profile.zone
    days = days_in(text, turn.now.astimezone(zone).date(), zone) or None

    def clock(match: re.Match[str]) -> str:
        ref = find_events(turn.app.calendar, turn.app.profile, match["what"], turn.now, days=days)
        if not ref.clear:
            return match.group(0)
        event = ref.events[0]
        at = (event.end if match["side"].lower() == "after" else event.start).astimezone(zone)
        return f"{match['side']} {at:%H:%M} on {at:%-d %B}"  # the day stays said: "fri's call" named it

    return _ANCHOR.sub(clock, text)


def _span(turn: Turn, slot: Slot) -> str:
    zone = turn.app.profile.zone
    start, end = slot.start.astimezone(zone), slot.end.astimezone(zone)
    return f"{start:%A %-d %B}, {start:%H:%M}–{end:%H:%M}"


def _short(turn: Turn, slot: Slot) -> str:
    start = slot.start.astimezone(turn.app.profile.zone)
    return f"{start:%a %-d %b %H:%M}"


def _names(turn: Turn, addresses: list[str]) -> str:
    names = [name_of(turn.app.profile, a) for a in addresses]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]


def _chosen(turn: Turn, start: str, minutes: int, ignore: CalEvent | None = None) -> Slot | None:
    """The slot an earlier answer (or a shift) names, if it is free and within working hours."""
    zone = turn.app.profile.zone
    try:
        begin = datetime.fromisoformat(start).astimezone(zone)
    except ValueError:
        return None
    end = begin + timedelta(minutes=minutes)
    if end.date() != begin.date():
        return None
    window = MeetingConstraints(
        zone=zone.key,
        duration_minutes=minutes,
        windows=[DayWindow(day=begin.date(), start=begin.time(), end=end.time())],
    )
    found = free_slots(turn.app, window, turn.now, limit=1, ignore=ignore)
    return found[0] if found and found[0].start == begin else None


def _options(turn: Turn, slots: list[Slot], args: BaseModel) -> list[Option]:
    return [
        Option(label=_short(turn, s), args=args.model_dump() | {"start": s.start.isoformat()}) for s in slots
    ]


def _verdict_words(done: Done) -> str:
    """What the gate made of an owner's change that did not run at once."""
    if done.verdict is Verdict.APPROVE:
        return f"it waits for your approval ({done.id[:8]})"
    return f"it was refused: {done.reason}"


# --- the owner's own meetings -------------------------------------------------------------------
def book_meeting(turn: Turn, args: BookArgs) -> Outcome:
    profile = turn.app.profile
    owner = profile.owner.emails[0]
    attendees, unclear = resolve(profile, args.people, leave_out=set(profile.owner.emails))
    if unclear:
        return Outcome(
            reply=unclear,
            question=Question(skill="book_meeting", args=args.model_dump(), text=turn.text, ask=unclear),
        )
    constraints = _when(turn, args.when, args.minutes)
    found = _find(turn, constraints, args, "book_meeting", args.start)
    if isinstance(found, Outcome):
        return found
    slots, alternatives = found
    if not slots:
        return _no_room(turn, constraints, alternatives, args, "book_meeting")
    slot = slots[0]
    with_whom = f" with {_names(turn, attendees)}" if attendees else ""
    title = args.title or (constraints.title if constraints.title != "Meeting" else "")
    title = title or (
        "Focus time"
        if not attendees and _FOCUS.search(turn.text)
        else f"Meeting{with_whom}"
        if attendees
        else "Busy"
    )
    trusted = [turn.provenance, Provenance(source=Source.OWNER_DATA, ref="profile")]
    done = turn.submit(
        Action(
            kind=ActionKind.CREATE_EVENT,
            requested_by=turn.principal,
            targets=attendees,
            target_provenance=trusted if attendees else [],
            event_id=turn.event_id,
            payload={
                "summary": title,
                "start": slot.start.isoformat(),
                "end": slot.end.isoformat(),
                "organizer": owner,
                "attendees": attendees,
                "status": "CONFIRMED",
            },
            payload_provenance=[turn.provenance],
            summary=f"meeting “{title}”{with_whom} on {_span(turn, slot)}",
        )
    )
    if not done.ran:
        return Outcome(
            reply=f"I proposed “{title}”{with_whom} on {_span(turn, slot)}; {_verdict_words(done)}.",
            done=[done],
        )
    others = slots[1:]
    also = (
        f" Also free then: {', '.join(_short(turn, s) for s in others)}." if others and not args.start else ""
    )
    guests = (
        f", with {_names(turn, attendees)} as {'attendee' if len(attendees) == 1 else 'attendees'}"
        if attendees
        else ""
    )
    return Outcome(
        reply=f"Booked “{title}” on {_span(turn, slot)} in your calendar{guests}.{also}", done=[done]
    )


def _find(
    turn: Turn, constraints: MeetingConstraints, args: BaseModel, skill: str, start: str
) -> tuple[list[Slot], list[Slot]] | Outcome:
    """(free slots, other times when none) for a new meeting; the time an earlier answer chose, if it is
    still free; or the question the request leaves open."""
    if start:
        slot = _chosen(turn, start, constraints.duration_minutes or 30)
        if slot is None:
            return Outcome(reply="That time is no longer free. Which other time would suit you?")
        return [slot], []
    if constraints.needs_clarification:
        return Outcome(
            reply=constraints.question,
            question=Question(skill=skill, args=args.model_dump(), text=turn.text, ask=constraints.question),
        )
    return slots_or_alternatives(turn.app, constraints, turn.now)


def _no_room(
    turn: Turn, constraints: MeetingConstraints, alternatives: list[Slot], args: BaseModel, skill: str
) -> Outcome:
    minutes = constraints.duration_minutes
    asked = ", ".join(f"{w.day:%A %-d %B}" for w in constraints.windows[:3])
    mine = turn.principal.is_owner
    who = "You have" if mine else f"{turn.owner_first} has"
    if not alternatives:
        return Outcome(
            reply=f"{who} no free {minutes} minutes on {asked}, nor in the week after. Which other days?"
        )
    listed = ", ".join(_short(turn, s) for s in alternatives)
    ask = f"{who} no free {minutes} minutes on {asked}. The next free times are {listed}. Shall I take one of those?"
    return Outcome(
        reply=ask,
        question=Question(
            skill=skill,
            args=args.model_dump(),
            text=turn.text,
            ask=ask,
            options=_options(turn, alternatives, args),
        ),
    )


def _split_move(text: str) -> tuple[str, str]:
    """'Push my 1:1 with Tomasz to Thursday' -> ('Push my 1:1 with Tomasz', 'Thursday')."""
    if (shift := _SHIFT.search(text)) and (shift.group("dir") or shift.group(0).lower().startswith("by")):
        return text[: shift.start()], shift.group(0)
    match = _TO.search(text)
    if match:
        return text[: match.start()], text[match.end() :]
    return text, ""


def _shift_minutes(words: str) -> int | None:
    match = _SHIFT.search(words)
    if not match or not (match.group("dir") or match.group(0).lower().startswith("by")):
        return None
    raw = match.group("n").lower()
    value = _NUMBER_WORDS.get(raw.replace("-", " ")) or float(raw)
    minutes = value * 60 if match.group("unit").lower().startswith("h") else value
    sign = -1 if (match.group("dir") or "").lower() in ("earlier", "forward", "sooner") else 1
    return int(sign * minutes)


def _which_event(
    turn: Turn, words: str, uid: str, occurrence: str, skill: str, args: BaseModel, *, pinned: bool = False
) -> CalEvent | Outcome:
    """The event the owner means, or an Outcome that asks (or says none was found). `pinned`: ask unless
    the words name the event by more than a person, when other events with that person could be meant
    (what is removed is not guessed)."""
    calendar, profile = turn.app.calendar, turn.app.profile
    if uid:
        start = datetime.fromisoformat(occurrence) if occurrence else turn.now
        around = [
            e
            for e in calendar.events(start - timedelta(minutes=1), start + timedelta(days=400))
            if e.uid == uid and (not occurrence or e.start == start)
        ]
        if around:
            return around[0]
        return Outcome(reply="I can't find that meeting any more.")
    ref = find_events(calendar, profile, words, turn.now)
    if not ref.events:
        return Outcome(reply=f"I couldn't find a meeting matching “{words.strip()}” in your calendar.")
    if ref.clear and (ref.pinned or not pinned or len(ref.events) == 1):
        return ref.events[0]
    zone = profile.zone
    options = [
        Option(
            label=describe(e, zone),
            args=args.model_dump() | {"uid": e.uid, "occurrence": e.start.isoformat()},
        )
        for e in ref.events[:4]
    ]
    ask = "Which one do you mean: " + "; ".join(f"{i + 1}. {o.label}" for i, o in enumerate(options)) + "?"
    return Outcome(
        reply=ask,
        question=Question(skill=skill, args=args.model_dump(), text=turn.text, ask=ask, options=options),
    )


def _guests(turn: Turn, event: CalEvent) -> list[str]:
    return [a.email for a in event.attendees if not turn.app.profile.is_owner(a.email)]


def move_meeting(turn: Turn, args: MoveArgs) -> Outcome:
    zone = turn.app.profile.zone
    said_meeting, said_to = _split_move(turn.text)
    words, to = args.meeting or said_meeting, args.to or said_to
    found = _which_event(
        turn, words, args.uid, args.occurrence, "move_meeting", args.model_copy(update={"to": to})
    )
    if isinstance(found, Outcome):
        return found
    event = found
    length = int((event.end - event.start).total_seconds() // 60)
    if args.start:
        slot = _chosen(turn, args.start, length, event)
        if slot is None:
            return Outcome(reply="That time is not free any more. Which other time would suit you?")
    elif (shift := _shift_minutes(to)) is not None:
        start = event.start + timedelta(minutes=shift)
        slot = _chosen(turn, start.isoformat(), length, event)
        if slot is None:
            return Outcome(
                reply=f"You're not free {start.astimezone(zone):%H:%M}–"
                f"{(start + timedelta(minutes=length)).astimezone(zone):%H:%M} on "
                f"{start.astimezone(zone):%A}. Where else should {describe(event, zone)} go?"
            )
    else:
        if not to.strip():
            ask = f"To when should I move {describe(event, zone)}?"
            return Outcome(
                reply=ask,
                question=Question(
                    skill="move_meeting",
                    args=args.model_copy(
                        update={"uid": event.uid, "occurrence": event.start.isoformat()}
                    ).model_dump(),
                    text=turn.text,
                    ask=ask,
                ),
            )
        today = turn.now.astimezone(zone).date()
        if not days_in(to, today, zone):  # "to 16:00", "to the afternoon": the meeting's own day
            to = f"{to} on {event.start.astimezone(zone):%-d %B}"
        # "my 1:1 next week … to the Wednesday": a weekday is counted in the meeting's own week
        local = event.start.astimezone(zone)
        week_before = datetime.combine(local.date() - timedelta(days=local.weekday() + 1), time(12), zone)
        constraints = _when(turn, to, length, length_known=True, said_at=max(turn.now, week_before))
        if constraints.needs_clarification:
            return Outcome(reply=constraints.question)
        slots = free_slots(turn.app, constraints, turn.now, limit=40, per_day=None, ignore=event)
        if not slots:
            return Outcome(
                reply=f"You have no free {length} minutes then. Where else should {describe(event, zone)} go?"
            )
        slot = min(slots, key=lambda s: _closeness(s, event, zone))
    guests = _guests(turn, event)
    old = describe(event, zone)
    payload = {
        "uid": event.uid,
        "start": slot.start.isoformat(),
        "end": slot.end.isoformat(),
        "summary": event.summary,
    }
    if event.recurrence_id is not None:
        payload["recurrence_id"] = event.recurrence_id.isoformat()
    done = turn.submit(
        Action(
            kind=ActionKind.MOVE_EVENT,
            requested_by=turn.principal,
            targets=guests,
            target_provenance=[Provenance(source=Source.OWNER_DATA, ref=f"calendar:{event.uid}")]
            if guests
            else [],
            payload=payload,
            payload_provenance=[turn.provenance],
            event_id=turn.event_id,
            summary=f"move {old} to {_span(turn, slot)}",
        )
    )
    if not done.ran:
        return Outcome(reply=f"Moving {old} to {_span(turn, slot)}: {_verdict_words(done)}.", done=[done])
    return Outcome(reply=f"Moved {old} to {_span(turn, slot)}.", done=[done])


def _closeness(slot: Slot, event: CalEvent, zone) -> tuple[int, int, datetime]:
    """Same weekday and clock time as before rank first: "push to next week" keeps the meeting's place."""
    new, old = slot.start.astimezone(zone), event.start.astimezone(zone)
    minutes = abs((new.hour * 60 + new.minute) - (old.hour * 60 + old.minute))
    return (0 if new.weekday() == old.weekday() else 1, minutes, slot.start)


def cancel_meeting(turn: Turn, args: CancelArgs) -> Outcome:
    zone = turn.app.profile.zone
    found = _which_event(
        turn, args.meeting or turn.text, args.uid, args.occurrence, "cancel_meeting", args, pinned=True
    )
    if isinstance(found, Outcome):
        return found
    event = found
    guests = _guests(turn, event)
    payload = {"uid": event.uid, "summary": event.summary, "start": event.start.isoformat()}
    if event.recurrence_id is not None:
        payload["recurrence_id"] = event.recurrence_id.isoformat()
    # the owner named this meeting in their own words: that is what lets a removal run
    named = Provenance(source=Source.OWNER, ref=f"said: {args.meeting or turn.text}"[:200])
    done = turn.submit(
        Action(
            kind=ActionKind.CANCEL_EVENT,
            requested_by=turn.principal,
            targets=guests,
            target_provenance=[named] if turn.principal.is_owner else [turn.provenance],
            payload=payload,
            payload_provenance=[turn.provenance],
            event_id=turn.event_id,
            summary=f"cancel {describe(event, zone)}" + (" (this occurrence)" if event.recurrence_id else ""),
        )
    )
    one = " (only this occurrence; the series goes on)" if event.recurrence_id else ""
    if not done.ran:
        return Outcome(reply=f"Cancelling {describe(event, zone)}: {_verdict_words(done)}.", done=[done])
    return Outcome(reply=f"Cancelled {describe(event, zone)}{one}.", done=[done])


# --- someone else asks for the owner's time -----------------------------------------------------
def request_meeting(turn: Turn, args: RequestArgs) -> Outcome:
    profile = turn.app.profile
    me = turn.owner_first
    asker = turn.principal.address
    stranger = turn.principal.role is Role.STRANGER
    others, unclear = resolve(profile, args.people, leave_out={*profile.owner.emails, asker})
    if unclear:
        return Outcome(reply=unclear)
    attendees = [a for a in [asker, *others] if a]
    constraints = _when(turn, args.when, args.minutes)
    found = _find(turn, constraints, args, "request_meeting", "" if stranger else args.start)
    if isinstance(found, Outcome):
        return found
    slots, alternatives = found
    if not slots and not stranger:
        return _no_room(turn, constraints, alternatives, args, "request_meeting")
    slot, *others = slots or alternatives or [None]
    if slot is None:  # a stranger, and nothing free: the owner hears of it, the stranger learns nothing
        return Outcome(
            reply=f"I'm {me}'s assistant. I can't arrange that myself; you're welcome to leave a message"
            f" for {me} here."
        )
    title = args.title or (constraints.title if constraints.title != "Meeting" else "")
    title = title or f"Meeting with {turn.principal.name or asker}"
    done = turn.submit(
        Action(
            kind=ActionKind.CREATE_EVENT,
            requested_by=turn.principal,
            targets=attendees,
            target_provenance=[turn.provenance] * len(attendees),
            payload_provenance=[turn.provenance],
            event_id=turn.event_id,
            payload=tentative_event_payload(
                title,
                slot.start.isoformat(),
                slot.end.isoformat(),
                profile.owner.emails[0],
                attendees,
                [(s.start, s.end) for s in others],
            ),
            summary=f"tentative “{title}” with {_names(turn, attendees)} on {_span(turn, slot)}, asked by"
            f" {turn.principal.name or asker or 'a stranger'} in {turn.channel}",
        )
    )
    if stranger:
        if done.verdict is Verdict.REFUSE:
            return Outcome(reply=f"I'm {me}'s assistant and can't arrange that.", done=[done])
        return Outcome(
            reply=f"I've passed your request for a meeting to {me}. Nothing is arranged yet: {me} will"
            " decide and get back to you.",
            done=[done],
        )
    if done.ran:
        return Outcome(
            reply=f"Done: “{title}” is in {me}'s calendar as a tentative hold on {_span(turn, slot)}.",
            done=[done],
        )
    if done.waits:
        return Outcome(
            reply=f"{me}'s calendar is free on {_span(turn, slot)}. I've asked {me} to confirm “{title}”"
            f" then; it is not booked until {me} approves.",
            done=[done],
        )
    return Outcome(reply=f"I can't arrange that here: {done.reason}.", done=[done])
