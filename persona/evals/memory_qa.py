"""`persona eval memory FILE --qa N`: does the twin answer from memory, not only find the message?

N of the eval's questions (spread over the categories in the data's order, the same ones each run) are
asked through the Twin as the owner would ask them (`persona ask`), on the home the recall eval built, with
the configured model. Scored as LoCoMo scores answers: token F1 against the gold answer (lower case,
punctuation and articles dropped; no stemming), and for temporal questions whose gold answer names a
date, whether the answer names the same date (every part the gold one gives: year, month, day).
"""

from __future__ import annotations

import asyncio
import calendar
import re
import string
import uuid
from collections import Counter
from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
from pydantic import BaseModel

from persona.events import Event, Principal, Provenance

if TYPE_CHECKING:
    from persona.app import App
    from persona.evals.memory import Question

_ARTICLES = re.compile(r"\b(?:a|an|the|and)\b")
_MONTH = r"(?P<{}>jan|feb|mar|apr|may|jun|jul|aug|sep|sept|oct|nov|dec)[a-z]*\.?"
_DATES = re.compile(
    r"\b(?:(?P<d1>\d{1,2})(?:st|nd|rd|th)?\s+(?:of\s+)?" + _MONTH.format("m1") + r",?\s+(?P<y1>\d{4})"
    r"|" + _MONTH.format("m2") + r"\s+(?P<d2>\d{1,2})(?:st|nd|rd|th)?,?\s+(?P<y2>\d{4})"
    r"|" + _MONTH.format("m3") + r",?\s+(?P<y3>\d{4})"
    r"|(?P<iso>\d{4}-\d{2}-\d{2})"
    r"|(?P<y4>(?:19|20)\d{2}))\b",
    re.IGNORECASE,
)
Day = tuple[int, int | None, int | None]  # year, month, day: as much as the text says


class Answer(BaseModel):
    question: str
    category: str
    gold: str
    answer: str
    f1: float
    date_match: bool | None = None  # None: not a temporal question with a dated gold answer


class QAScores(BaseModel):
    questions: int
    f1: float
    dated: int  # temporal questions whose gold answer names a date
    date_match: float | None


def sample(questions: list[Question], n: int) -> list[Question]:
    """`n` questions spread over the categories in proportion, the same ones each run."""
    if n >= len(questions):
        return list(questions)
    step = len(questions) / n
    return [questions[int(i * step)] for i in range(n)]


def token_f1(answer: str, gold: str) -> float:
    said, wanted = _tokens(answer), _tokens(gold)
    common = sum((Counter(said) & Counter(wanted)).values())
    if not said or not wanted or not common:
        return 0.0
    precision, recall = common / len(said), common / len(wanted)
    return 2 * precision * recall / (precision + recall)


def _tokens(text: str) -> list[str]:
    text = text.lower().translate(str.maketrans("", "", string.punctuation))
    return _ARTICLES.sub(" ", text).split()


def dates_in(text: str) -> set[Day]:
    found: set[Day] = set()
    for m in _DATES.finditer(text):
        if m.group("iso"):
            year, month, day = (int(p) for p in m.group("iso").split("-"))
            found.add((year, month, day))
            continue
        year = int(m.group("y1") or m.group("y2") or m.group("y3") or m.group("y4"))
        name = (m.group("m1") or m.group("m2") or m.group("m3") or "").lower()[:3]
        month = [m.lower() for m in calendar.month_abbr].index(name) if name else None
        number = m.group("d1") or m.group("d2")
        found.add((year, month, int(number) if number else None))
    return found


def same_date(answer: str, gold: str) -> bool | None:
    """Whether the answer names the gold answer's date, to the precision the gold gives; None if it gives
    none. A year alone in the gold is matched by any date of that year."""
    wanted = dates_in(gold)
    if not wanted:
        return None
    said = dates_in(answer)
    return any(all(w is None or w == s for w, s in zip(want, got)) for want in wanted for got in said)


def ask_all(
    app: App, questions: list[Question], tick: Callable[[int, int], None] | None = None
) -> list[Answer]:
    """Each question asked as the owner, in a conversation of its own."""
    return asyncio.run(_ask_all(app, questions, tick))


async def _ask_all(
    app: App, questions: list[Question], tick: Callable[[int, int], None] | None
) -> list[Answer]:
    from persona.agent.runner import Twin

    owner = Principal.owner(app.profile)
    answers = []
    async with Twin.open(app) as twin:
        for n, q in enumerate(questions):
            event = Event(
                channel="cli",
                principal=owner,
                text=q.question,
                session_id=uuid.uuid4().hex,
                provenance=Provenance.of(owner),
            )
            text = (await twin.respond(event)).text
            answers.append(
                Answer(
                    question=q.question,
                    category=q.category,
                    gold=q.answer,
                    answer=text,
                    f1=round(token_f1(text, q.answer), 3),
                    date_match=same_date(text, q.answer) if q.category == "temporal" else None,
                )
            )
            if tick:
                tick(n + 1, len(questions))
    return answers


def scores(answers: list[Answer]) -> dict[str, QAScores]:
    """Overall and per category: mean token F1, and the share of dated temporal answers with the date."""
    groups: dict[str, list[Answer]] = {}
    for a in answers:
        for group in ("all", a.category):
            groups.setdefault(group, []).append(a)
    result = {}
    for group, rows in groups.items():
        dated = [a.date_match for a in rows if a.date_match is not None]
        result[group] = QAScores(
            questions=len(rows),
            f1=round(float(np.mean([a.f1 for a in rows])), 3),
            dated=len(dated),
            date_match=round(sum(dated) / len(dated), 3) if dated else None,
        )
    return result
