"""Time in what people wrote, made absolute: "yesterday" in a message sent on 8 May 2023 is 7 May 2023.

At ingest, each relative expression a rule understands is resolved against the message's own date and
written after it in brackets ("yesterday [7 May 2023]"), so the model reading the memory and the
keyword search both see the date; the spans are kept as `Span`s for the search's time filter. In a
question, `asked_span` reads the time it asks about ("in May 2023", "last year") against now.
Rules only: an expression they do not know ("the other day") is left as it is.
"""

from __future__ import annotations

import calendar
import re
from dataclasses import dataclass
from datetime import date, datetime, timedelta

_WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"]
_MONTHS = [m.lower() for m in calendar.month_name[1:]]
# Number words as people write counts and durations; each pattern below reads only the ones it expects.
NUMBER_WORDS = {
    "a": 1,
    "an": 1,
    "one": 1,
    "two": 2,
    "three": 3,
    "four": 4,
    "five": 5,
    "six": 6,
    "seven": 7,
    "eight": 8,
    "nine": 9,
    "ten": 10,
    "fifteen": 15,
    "twenty": 20,
    "thirty": 30,
    "forty-five": 45,
    "forty five": 45,
    "ninety": 90,
    "a couple of": 2,
    "couple of": 2,
}
_COUNT = r"(?P<n>\d{1,2}|a couple of|couple of|an?|one|two|three|four|five|six|seven|eight|nine|ten)"
_UNIT = r"(?P<unit>day|week|month|year)s?"
_RELATIVE = re.compile(
    r"\b(?:(?P<daybefore>the day before yesterday)|(?P<yesterday>yesterday|last night)|(?P<today>today|tonight)"
    r"|(?P<tomorrow>tomorrow)"
    r"|(?P<rel>last|next|this|past) (?P<what>week|weekend|month|year|" + "|".join(_WEEKDAYS) + ")"
    r"|" + _COUNT + " " + _UNIT + r" (?P<dir>ago|from now|later)"
    r"|in " + _COUNT.replace("?P<n>", "?P<n2>") + " " + _UNIT.replace("?P<unit>", "?P<unit2>") + r")\b",
    re.IGNORECASE,
)


@dataclass(frozen=True)
class Span:
    """Whole days, first and last included."""

    first: date
    last: date

    def overlaps(self, other: Span) -> bool:
        return self.first <= other.last and other.first <= self.last

    def encode(self) -> str:
        return f"{self.first.isoformat()}..{self.last.isoformat()}"

    @classmethod
    def decode(cls, text: str) -> Span | None:
        first, _, last = text.partition("..")
        try:
            return cls(date.fromisoformat(first), date.fromisoformat(last or first))
        except ValueError:
            return None


def annotate(text: str, said: datetime | None) -> tuple[str, list[Span]]:
    """The text with each relative time it names followed by its date in brackets, and those dates."""
    if said is None:
        return text, []
    spans: list[Span] = []
    parts: list[str] = []
    end = 0
    for match in _RELATIVE.finditer(text):
        span = _resolve(match, said.date())
        if span is None:
            continue
        spans.append(span)
        parts += [text[end : match.end()], f" [{_label(span)}]"]
        end = match.end()
    return "".join(parts) + text[end:], spans


def asked_span(question: str, now: date) -> tuple[Span | None, str]:
    """The time a question asks about, when it names one (a date, a month, a year, or a relative time),
    and the question without the words that named it: they ask when, not what."""
    lowered = question.lower()
    months = "|".join(_MONTHS)
    if day := re.search(
        rf"\b(?:(\d{{1,2}})(?:st|nd|rd|th)? ({months})|({months}) (\d{{1,2}})(?:st|nd|rd|th)?),? "
        r"(\d{4})\b",
        lowered,
    ):
        try:
            when = date(
                int(day.group(5)),
                _MONTHS.index(day.group(2) or day.group(3)) + 1,
                int(day.group(1) or day.group(4)),
            )
        except ValueError:
            return None, question
        return Span(when, when), _without(question, day)
    if month_year := re.search(rf"\b({months}),? (\d{{4}})\b", lowered):
        return _month(int(month_year.group(2)), _MONTHS.index(month_year.group(1)) + 1), _without(
            question, month_year
        )
    if year := re.search(r"\b(?:in|during|of|since) ((?:19|20)\d\d)\b", lowered):
        first = date(int(year.group(1)), 1, 1)
        return Span(first, first.replace(month=12, day=31)), _without(question, year)
    if (match := _RELATIVE.search(question)) and (span := _resolve(match, now)):
        return span, _without(question, match)
    return None, question


def _without(text: str, match: re.Match[str]) -> str:
    return f"{text[: match.start()]} {text[match.end() :]}"


def _resolve(match: re.Match[str], day: date) -> Span | None:
    found = match.groupdict()
    if found["daybefore"]:
        return _day(day - timedelta(days=2))
    if found["yesterday"]:
        return _day(day - timedelta(days=1))
    if found["today"]:
        return _day(day)
    if found["tomorrow"]:
        return _day(day + timedelta(days=1))
    if found["rel"]:
        return _relative(found["rel"].lower(), found["what"].lower(), day)
    if found["n"]:
        sign = -1 if found["dir"].lower() == "ago" else 1
        return _shifted(
            day, sign * NUMBER_WORDS.get(found["n"].lower(), 0) or sign * int(found["n"]), found["unit"]
        )
    if found["n2"]:
        return _shifted(day, NUMBER_WORDS.get(found["n2"].lower(), 0) or int(found["n2"]), found["unit2"])
    return None


def _relative(rel: str, what: str, day: date) -> Span | None:
    step = {"last": -1, "past": -1, "next": 1, "this": 0}[rel]
    monday = day - timedelta(days=day.weekday())
    if what == "week":
        start = monday + timedelta(weeks=step)
        return Span(start, start + timedelta(days=6))
    if what == "weekend":
        saturday = monday + timedelta(days=5, weeks=min(step, 0))
        if step > 0 and day >= saturday:
            saturday += timedelta(weeks=1)
        return Span(saturday, saturday + timedelta(days=1))
    if what == "month":
        months = day.year * 12 + day.month - 1 + step
        return _month(months // 12, months % 12 + 1)
    if what == "year":
        return Span(date(day.year + step, 1, 1), date(day.year + step, 12, 31))
    wanted = _WEEKDAYS.index(what)
    if step < 0:  # "last Friday": the latest Friday before today
        return _day(day - timedelta(days=(day.weekday() - wanted - 1) % 7 + 1))
    if step > 0:  # "next Friday": the first Friday after today
        return _day(day + timedelta(days=(wanted - day.weekday() - 1) % 7 + 1))
    return _day(monday + timedelta(days=wanted))


def _shifted(day: date, count: int, unit: str) -> Span | None:
    unit = unit.lower()
    if unit == "day":
        return _day(day + timedelta(days=count))
    if unit == "week":
        start = day + timedelta(weeks=count)
        start -= timedelta(days=start.weekday())
        return Span(start, start + timedelta(days=6))
    if unit == "month":
        months = day.year * 12 + day.month - 1 + count
        return _month(months // 12, months % 12 + 1)
    return Span(date(day.year + count, 1, 1), date(day.year + count, 12, 31))


def _day(when: date) -> Span:
    return Span(when, when)


def _month(year: int, month: int) -> Span:
    return Span(date(year, month, 1), date(year, month, calendar.monthrange(year, month)[1]))


def _label(span: Span) -> str:
    """How the resolved date is written into the text: as precise as the expression was."""
    first, last = span.first, span.last
    if first == last:
        return f"{first.day} {calendar.month_name[first.month]} {first.year}"
    if (last - first).days < 7:
        return (
            f"the week of {first.day} {calendar.month_name[first.month]} {first.year}"
            if ((last - first).days == 6)
            else f"the weekend of {first.day} {calendar.month_name[first.month]} {first.year}"
        )
    if first.day == 1 and first.month == last.month:
        return f"{calendar.month_name[first.month]} {first.year}"
    return str(first.year)
