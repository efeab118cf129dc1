"""The order a search's candidates are shown in: each message scored with its neighbours.

The vector and keyword halves of a search each find up to `POOL` candidates; when the question names
people, the question without their names (its topic) finds up to `POOL` more by its vector. Each is
scored by a weighted sum of what is known about it (`features`):
- how near its vector is to the question and to its topic, its ranks in the vector and keyword halves,
  and its BM25 score against the best;
- how many of the question's content words it holds (by their first five letters: "painted" is "paint");
- whether it was said by someone the question names, or in a conversation with them;
- whether its date, or a date it mentions, falls in the time the question asks about (or outside it);
- whether it holds the kind of thing the question asks for: a time for "when" or "how long", a number
  for "how many";
- whether it is a question itself (an answer holds the fact, a question rarely does), its length (a
  two-word reply holds little), and whether it opens a conversation (where news is told);
- the same closeness, words and BM25 of the turns before and after it: in a conversation the answer is
  often the turn after the question that matches ("How long have you been married?" → "5 years
  already!"), so a message whose previous turn is a question like the one asked rises.
The neighbours of the best few join the candidates, so such an answer is found even when neither half did.

The weights are a listwise logistic fit (softmax over each question's candidates) on LoCoMo conversations
0–4, all chat: `benchmarks/locomo_fit.py` reruns it and prints these. Cross-validated by conversation
(fit on four, tested on the fifth), evidence recall@4 was 0.714 (0.713 with these weights); on
conversations 5–9, which no fit saw, 0.691. Without the topic and the kinds of answer: 0.696, and 0.667
on 5–9.
"""

from __future__ import annotations

import calendar
import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

from persona.memory.dates import NUMBER_WORDS, Span

POOL = 50  # candidates each half of a search hands to the ranking (LoCoMo: 100 found no more, at +2.6 ms)
EXPANDED = 10  # the best candidates whose neighbours join them (LoCoMo: 20 no better)
LONG = (
    40  # words beyond which a text is not held to say more: mail and notes run far longer than LoCoMo's turns
)
STEM = 5  # letters of a word compared when counting the question's words in a text

WEIGHTS = {
    "similarity": 1.31,
    "vector_rank": 0.03,  # log(1 + rank): the first few places matter, the 80th and 90th alike
    "keyword_rank": -0.5,
    "keyword_score": 0.23,  # BM25 over the best keyword find's
    "covers": 1.76,  # share of the question's content words it holds
    "said_by_named": 2.86,
    "with_named": 4.06,
    "asked_time": 2.72,  # +1 inside the time the question asks about, -1 outside, 0 when it asks none
    "is_question": -0.75,
    "length": 0.58,  # log(1 + words, at most LONG)
    "opens": 1.25,  # a chat message with no turn before it
    "before_similarity": 1.19,
    "before_keyword": 1.16,
    "before_covers": 0.33,
    "before_question": 1.16,  # the previous turn's similarity, when that turn is a question
    "after_similarity": 0.41,
    "after_keyword": 0.66,
    "after_present": 0.18,
    "topic": 5.83,
    "before_topic": 0.95,
    "after_topic": 0.96,
    "when_dated": 2.27,
    "count_numbered": 1.24,
}
_WORDS = re.compile(r"[a-z0-9]+")
# What kind of answer a question wants, by its first words: a time ("when", "how long", "which year") or
# a count ("how many", "how old"). A candidate that holds that kind of thing is more likely the answer.
_ASKS_TIME = re.compile(
    r"^\W*(?:when|since when|what (?:year|month|date|day|time)|which (?:year|month|day))\b"
    r"|\bhow long\b|\bhow many (?:days|weeks|months|years)\b",
    re.IGNORECASE,
)
_ASKS_COUNT = re.compile(r"\bhow (?:many|much|old|long|often)\b|\bwhat age\b", re.IGNORECASE)
_TIME = re.compile(
    rf"\b(?:{'|'.join(calendar.month_name[1:])}|(?:19|20)\d\d|since|ago)\b"
    r"|\bfor (?:a|an|\d+|a few|a couple of|several|"
    + "|".join(NUMBER_WORDS)
    + r") (?:day|week|month|year)s?\b",
    re.IGNORECASE,
)
_NUMBER = re.compile(
    rf"\b(?:\d+|{'|'.join(w for w in NUMBER_WORDS if len(w) > 2)}|several|few|dozens?)\b", re.IGNORECASE
)


@dataclass(frozen=True)
class Asked:
    """What a question names beyond its words: people the memory knows, a time, and its other content words."""

    names: frozenset[str] = frozenset()
    span: Span | None = None
    terms: frozenset[str] = frozenset()
    wants_time: bool = False  # "when ...?", "how long ...?"
    wants_count: bool = False  # "how many ...?"

    @classmethod
    def of(cls, question: str, names: frozenset[str], span: Span | None, terms: frozenset[str]) -> Asked:
        return cls(names, span, terms, bool(_ASKS_TIME.search(question)), bool(_ASKS_COUNT.search(question)))


@dataclass(frozen=True)
class Candidate:
    """What a search knows of one item; a rank or score is None where that half did not find it."""

    text: str
    meta: Mapping[str, Any]
    similarity: float
    vector_rank: int | None = None
    keyword_rank: int | None = None
    keyword_score: float = 0.0  # BM25, over the best keyword find's
    # similarity to the question without the people it names (None: it names none, the same as
    # `similarity`): every message of theirs starts with their name, which would outweigh what it says
    topic: float | None = None

    @property
    def about(self) -> float:
        return self.similarity if self.topic is None else self.topic

    @property
    def neighbours(self) -> tuple[str, str]:
        """Ids of the turns before and after it in its conversation ("" where none, or not a chat message)."""
        return str(self.meta.get("prev", "")), str(self.meta.get("next", ""))


# reads the candidates of these ids that the search may show (in its scope), for neighbours
Reader = Callable[[Collection[str]], Mapping[str, Candidate]]


def ranked(
    candidates: Mapping[str, Candidate], read: Reader, asked: Asked, k: int
) -> list[tuple[str, Candidate, float]]:
    """The best `k` (id, candidate, score) of the candidates and of the best ones' neighbours, best first."""
    known = with_neighbours(candidates, read)
    score = {id_: _score(id_, known, asked) for id_ in candidates}
    best = sorted(candidates, key=score.__getitem__, reverse=True)[:EXPANDED]
    joined = {n for id_ in best for n in known[id_].neighbours if n in known and n not in score}
    known |= read({n for id_ in joined for n in known[id_].neighbours if n and n not in known})
    score |= {id_: _score(id_, known, asked) for id_ in joined}
    return sorted(((id_, known[id_], value) for id_, value in score.items()), key=lambda row: -row[2])[:k]


def with_neighbours(candidates: Mapping[str, Candidate], read: Reader) -> dict[str, Candidate]:
    """The candidates and the turns before and after each that the search may show."""
    return dict(candidates) | read(
        {n for c in candidates.values() for n in c.neighbours if n and n not in candidates}
    )


def features(id_: str, known: Mapping[str, Candidate], asked: Asked) -> dict[str, float]:
    """What the score weighs of one candidate, beside its neighbours among `known` (a missing one adds 0)."""
    c = known[id_]
    speaker = str(c.meta.get("speaker", ""))
    found = {
        "similarity": c.similarity,
        "vector_rank": math.log1p(POOL if c.vector_rank is None else c.vector_rank),
        "keyword_rank": math.log1p(POOL if c.keyword_rank is None else c.keyword_rank),
        "keyword_score": c.keyword_score,
        "covers": _covers(c, asked),
        "said_by_named": float(bool(asked.names & _names(speaker))),
        "with_named": float(bool(asked.names & _names(str(c.meta.get("people", ""))))),
        "asked_time": 0.0,
        "is_question": _is_question(c),
        "length": math.log1p(min(len(_own_words(c).split()), LONG)),
        "opens": float(c.meta.get("doc_kind") == "chat" and not c.meta.get("prev")),
        "topic": c.about,
        "when_dated": float(asked.wants_time and bool(c.meta.get("dates") or _TIME.search(_own_words(c)))),
        "count_numbered": float(asked.wants_count and bool(_NUMBER.search(_own_words(c)))),
    }
    if asked.span is not None:
        found["asked_time"] = 1.0 if any(span.overlaps(asked.span) for span in _spans(c.meta)) else -1.0
    # a mail or a note is its own context: it is scored as if its neighbours were like it, so beside chat
    # messages, which LoCoMo's weights were fitted on, it neither gains nor loses for having none
    before, after = (known.get(n) for n in c.neighbours) if c.meta.get("doc_kind") == "chat" else (c, c)
    if before is not None:
        found |= {
            "before_similarity": before.similarity,
            "before_keyword": before.keyword_score,
            "before_covers": _covers(before, asked),
            "before_topic": before.about,
        }
        if before is not c:
            found["before_question"] = _is_question(before) * before.similarity
    if after is not None:
        found |= {
            "after_similarity": after.similarity,
            "after_keyword": after.keyword_score,
            "after_present": 1.0,
            "after_topic": after.about,
        }
    return found


def _score(id_: str, known: Mapping[str, Candidate], asked: Asked) -> float:
    return sum(WEIGHTS[name] * value for name, value in features(id_, known, asked).items())


def _own_words(c: Candidate) -> str:
    """The message without the "Speaker: " its item starts with."""
    speaker = str(c.meta.get("speaker", ""))
    return c.text[len(speaker) + 2 :] if speaker and c.text.startswith(f"{speaker}: ") else c.text


def _covers(c: Candidate, asked: Asked) -> float:
    if not asked.terms:
        return 0.0
    held = _stems(_own_words(c))
    return sum(term[:STEM] in held for term in asked.terms) / len(asked.terms)


@lru_cache(maxsize=8192)
def _stems(text: str) -> frozenset[str]:
    """The text's words cut to STEM letters; kept, as a message is a candidate for many questions."""
    return frozenset(word[:STEM] for word in _WORDS.findall(text.lower()))


def _is_question(c: Candidate) -> float:
    return float(c.text.rstrip().endswith("?"))


def _names(text: str) -> set[str]:
    """The words of names and addresses: "Dana Reyes, sam@example.com" → dana, reyes, sam, example, com."""
    return set(_WORDS.findall(text.lower()))


def _spans(meta: Mapping[str, Any]) -> list[Span]:
    """When the item was written, and the dates it mentions (resolved at ingest)."""
    found = [Span.decode(str(meta.get("date", ""))[:10])]
    found += [Span.decode(part) for part in str(meta.get("dates", "")).split(";") if part]
    return [span for span in found if span is not None]
