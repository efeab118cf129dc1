"""What a text claims was done or will be done, and which of its times and dates nothing backs.

Two checks keep the twin truthful:
- `action_claims`: sentences that say an action happened ("I've booked…", "I sent…"), or promise
  one ("I'll let Sam know"), or offer a time ("let's meet at 4"). A reply may carry them only when
  the turn's actions back them (persona.agent.truth).
- `unsourced_times`: dates, weekdays, clock times and deadlines in a draft that neither the mail it
  answers, the owner's instruction nor anything the model was shown holds ("we can expect the
  countersigned form by 15 December"): a commitment in the owner's name needs a source.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from typing import Literal

ClaimKind = Literal["book", "move", "cancel", "send", "invite", "pass_on", "remember", "offer_time"]

_SUBJECT_DONE = (
    r"(?:i'?ve|i have|i|we'?ve|we have|it'?s|it is|that'?s|this is|it'?s been|has been|have been|"
    r"was|were|is now|are now|all|you'?re|you are|she'?s|he'?s|they'?re)"
)
_SUBJECT_WILL = (
    r"(?:i'?ll|i will|i shall|let me|i'?m going to|i am going to|we'?ll|we will)"  # "I can…" offers
)
_FIRST_PERSON = re.compile(r"i'?ve|i have|i|we'?ve|we have")
_GAP = r"\s+(?:(?!not\b|never\b|no\b|yet\b)\w+\s+){0,3}?"  # "it is not booked" claims nothing
_DONE_VERBS: dict[ClaimKind, str] = {
    "book": r"(?:booked|scheduled|set (?:it |this |that )?up|arranged|added (?:it |this |that )?to (?:your|the|my|her|his)"
    r" calendar|put (?:it|this|that) (?:in|on)|blocked|reserved|pencil(?:l)?ed (?:it |this |you )?in|"
    r"confirmed (?:the|your|a) (?:meeting|slot|time|call)|(?:now )?in (?:your|the|her|his|my) calendar)",
    "move": r"(?:moved|rescheduled|pushed|shifted|postponed|brought forward)",
    "cancel": r"(?:cancell?ed|called off|removed|deleted)",
    "send": r"(?:sent|e-?mailed|mailed|forwarded|replied|written to|wrote to|messaged|notified|informed|told|"
    r"let (?:\w+ )?know)",
    "invite": r"(?:invited|sent (?:an? |the )?invit\w*)",
    "pass_on": r"(?:passed|relayed|handed) (?:it|this|that|your \w+|the \w+)?\s*(?:on|along)",
    "remember": r"(?:noted|made a note|saved (?:it|this|that)|stored (?:it|this|that))",
}
_WILL_VERBS: dict[ClaimKind, str] = {
    "book": r"(?:book|schedule|set (?:it |this |that |something |a \w+ )?up|arrange|add (?:it|this|that)|put (?:it|this|that)"
    r" in|block|reserve|pencil|confirm)",
    "move": r"(?:move|reschedule|push|shift|postpone)",
    "cancel": r"(?:cancel|call (?:it |this |that )?off|remove|delete)",
    "send": r"(?:send|e-?mail|forward|reply|write to|message|notify|inform|tell|let (?:\w+ )?know|get back to)",
    "invite": r"(?:invite|send (?:an? |the )?invit\w*)",
    "pass_on": r"(?:pass (?:it|this|that|your \w+|the \w+|\w+)?\s*(?:on|along)|relay|ask (?:\w+)|check with|"
    r"mention (?:it|this|that) to)",
    "remember": r"(?:remember|note|make a note|keep (?:it|this|that) in mind)",
}
_NEGATED = re.compile(r"n[’']t\b|\b(?:can|don|doesn|didn|haven|hasn|won|isn|aren|wasn|weren)t\b|\bcannot\b")
# A sentence that opens with the deed itself: "Booked for Tuesday at 10." / "Sent."
_OPENING: dict[str, ClaimKind] = {
    "booked": "book",
    "scheduled": "book",
    "sent": "send",
    "forwarded": "send",
    "emailed": "send",
    "cancelled": "cancel",
    "canceled": "cancel",
    "moved": "move",
    "rescheduled": "move",
    "noted": "remember",
    "invited": "invite",
}
_OFFER = re.compile(
    r"\b(?:let'?s (?:meet|do|say|schedule|book|have)|how about|shall we (?:say|meet|do)|see you (?:at|on|then)|"
    r"works for (?:me|us|her|him)|i'?m free|(?:she|he|they) (?:is|are|'s|'re) free|meet (?:at|on)|"
    r"(?:we|you|i|she|he|they) can (?:meet|do|spare|make|fit)|(?:i|she|he|they)(?:'m| am|'s| is|'re| are) available)\b",
    re.IGNORECASE,
)
_LENGTH = re.compile(r"\b\d+\s*(?:min|mins|minutes|hours?)\b|\b(?:half an|an) hour\b")
_SENTENCES = re.compile(r"(?<=[.!?])\s+|\n+")

_MONTH_NUMBERS = {name.lower(): i for i, name in enumerate(calendar.month_abbr) if name}  # "jan": 1
_MONTH = r"(?:jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_WEEKDAY = r"(?:monday|tuesday|wednesday|thursday|friday|saturday|sunday)"
_RELATIVE = (
    r"(?:tomorrow|tonight|today|this week|next week|end of (?:the |this )?(?:day|week|month)|eod|eow|asap)"
)
_DATE = re.compile(
    rf"\b(?:(?P<d1>\d{{1,2}})(?:st|nd|rd|th)?\s+(?:of\s+)?(?P<m1>{_MONTH})|(?P<m2>{_MONTH})\s+"
    rf"(?P<d2>\d{{1,2}})(?:st|nd|rd|th)?\b|(?P<iso>\d{{4}}-\d{{2}}-\d{{2}}))",
    re.IGNORECASE,
)
_CLOCK = re.compile(
    r"\b(?P<h>\d{1,2})(?:[:.](?P<m>\d{2}))?\s*(?P<ap>[ap]\.?m\.?)(?!\w)|\b(?P<h24>\d{1,2})[:.](?P<m24>\d{2})\b",
    re.IGNORECASE,
)
_NAMED = re.compile(rf"\b(?:{_WEEKDAY}|{_RELATIVE})\b", re.IGNORECASE)


@dataclass(frozen=True)
class Claim:
    kind: ClaimKind
    done: bool  # said to have happened (else promised or offered)
    sentence: str
    own: bool = True  # said of the twin itself ("I've booked"), not of the world ("the cutover was moved")


_QUOTED = re.compile(r"“[^”]*”|\"[^\"\n]*\"|^>.*$", re.MULTILINE)  # someone's words, or a quoted draft


def _sentences(text: str) -> list[str]:
    """The text's sentences; a quotation stays whole inside the sentence that carries it."""
    quotes: list[str] = []

    def hide(match: re.Match[str]) -> str:
        quotes.append(match.group(0))
        return f"\x00{len(quotes) - 1}\x00"

    masked = _QUOTED.sub(hide, text)
    restore = re.compile(r"\x00(\d+)\x00")
    return [
        restore.sub(lambda m: quotes[int(m.group(1))], s).strip()
        for s in _SENTENCES.split(masked)
        if s.strip()
    ]


def action_claims(text: str) -> list[Claim]:
    """Every claim of an action the text makes, sentence by sentence; quoted words claim nothing."""
    claims = []
    for sentence in _sentences(text):
        lowered = _QUOTED.sub(" ", sentence).lower()
        if lowered.endswith("?") and not re.search(r"\b(?:i'?ve|i have)\b", lowered):
            continue  # a question offers, it does not claim: "shall I ask Dana?"
        lowered = _NEGATED.sub(" not", lowered)  # "haven't sent", "won't book": nothing claimed
        if (first := re.match(r"[\W_]*(\w+)", lowered)) and first.group(1) in _OPENING:
            claims.append(Claim(_OPENING[first.group(1)], True, sentence))
        for kind, verbs in _DONE_VERBS.items():
            if match := re.search(rf"\b({_SUBJECT_DONE}){_GAP}{verbs}\b", lowered):
                claims.append(Claim(kind, True, sentence, own=bool(_FIRST_PERSON.fullmatch(match.group(1)))))
        for kind, verbs in _WILL_VERBS.items():
            if re.search(rf"\b{_SUBJECT_WILL}{_GAP}{verbs}\b", lowered):
                claims.append(Claim(kind, False, sentence))
        if _OFFER.search(lowered) and (
            _CLOCK.search(lowered)
            or _NAMED.search(lowered)
            or _DATE.search(lowered)
            or _LENGTH.search(lowered)
        ):
            claims.append(Claim("offer_time", False, sentence))
    return claims


def sourced(sentence: str, sources: str) -> bool:
    """Whether what the sentence says is in `sources`: most of its words (of four letters or more) are."""
    words = set(re.findall(r"[a-z0-9]{4,}", _QUOTED.sub(" ", sentence).lower()))
    return bool(words) and len(words & set(re.findall(r"[a-z0-9]{4,}", sources.lower()))) >= 0.6 * len(words)


def without_sentences(text: str, sentences: set[str]) -> str:
    """`text` without the given sentences (as `action_claims` cut them); its lines stay as they were."""
    for sentence in sentences:
        text = text.replace(sentence, "", 1)
    lines = [" ".join(line.split()) for line in text.splitlines()]
    return "\n".join(line for line in lines if line).strip()


def _day_month(match: re.Match[str]) -> tuple[int, int] | None:
    if match.group("iso"):
        _, month, day = (int(p) for p in match.group("iso").split("-"))
        return month, day
    day = int(match.group("d1") or match.group("d2"))
    name = (match.group("m1") or match.group("m2")).lower()[:3]
    month = _MONTH_NUMBERS.get(name, 0)
    return (month, day) if month and 1 <= day <= 31 else None


def _clock_minutes(match: re.Match[str]) -> int | None:
    if match.group("h24"):
        hour, minute = int(match.group("h24")), int(match.group("m24"))
    else:
        hour, minute = int(match.group("h")), int(match.group("m") or 0)
        ap = match.group("ap").lower().replace(".", "")
        hour = hour % 12 + (12 if ap == "pm" else 0)
    return hour * 60 + minute if hour < 24 and minute < 60 else None


def clock_times(text: str) -> set[int]:
    """The clock times `text` names, as minutes after midnight ("3pm" and "15:00" alike)."""
    return {c for m in _CLOCK.finditer(text) if (c := _clock_minutes(m)) is not None}


def unsourced_times(text: str, sources: str) -> set[str]:
    """Dates, weekdays, relative days and clock times in `text` that `sources` never mentions, in any
    way of writing them ("15 December" = "Dec 15" = "2026-12-15"; "3pm" = "15:00")."""
    source_days = {d for m in _DATE.finditer(sources) if (d := _day_month(m))}
    source_clocks = clock_times(sources)
    source_named = {m.group(0).lower() for m in _NAMED.finditer(sources)}
    missing = set()
    for match in _DATE.finditer(text):
        day = _day_month(match)
        if day is not None and day not in source_days:
            missing.add(match.group(0))
    for match in _CLOCK.finditer(text):
        clock = _clock_minutes(match)
        if clock is not None and clock not in source_clocks:
            missing.add(match.group(0))
    for match in _NAMED.finditer(text):
        if match.group(0).lower() not in source_named:
            missing.add(match.group(0))
    return missing
