"""The order a search's candidates are shown in: each message scored on its own, then beside its neighbours.

The vector and keyword halves of a search each find up to `POOL` candidates. Each is scored first on its
own, by a weighted sum of what is known about it:
- how near its vector is, its ranks in the vector and keyword halves, and its BM25 score against the best;
- whether it was said by someone the question names, or in a conversation with them;
- whether its date, or a date it mentions, falls in the time the question asks about;
- whether it is a question itself (an answer holds the fact, a question rarely does), and its length
  (a two-word reply holds little).
Then a chat message's score takes in its neighbours' (the turn before and after it): in a conversation
the answer is often the turn after the question that matches ("How long have you been married?" →
"5 years already!"), so a message whose previous turn is a question like the one asked rises. The
neighbours of the best few join the candidates, so such an answer is found even when neither half did.

The weights are listwise logistic fits (softmax over each question's candidates, first the own score,
then the neighbour weights over it) on LoCoMo conversations 0–4 (`persona eval memory`), few and plain;
cross-validated by conversation (fit on four, tested on the fifth), evidence recall@4 was 0.686, against
0.638 for the own score of the session before and 0.491 for rank fusion alone.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from typing import Any

from persona.memory.dates import Span

POOL = 50  # candidates each half of a search hands to the ranking (LoCoMo: 100 found no more, at +2.6 ms)
EXPANDED = 10  # the best candidates whose neighbours join them (LoCoMo: 20 no better)

_OWN = {
    "similarity": 7.11,
    "vector_rank": -0.16,  # log(1 + rank): the first few places matter, the 80th and 90th alike
    "keyword_rank": -0.32,
    "keyword_score": 2.38,  # BM25 over the best keyword find's
    "said_by_named": 2.42,
    "with_named": 2.51,
    "in_asked_time": 4.50,
    "outside_asked_time": -0.78,
    "is_question": -0.61,
    "length": 1.26,  # log(1 + words)
}
_OWN_WEIGHT, _BEFORE, _AFTER = 0.95, 0.18, 0.07  # own score, the previous turn's, the next turn's
_AFTER_QUESTION = 1.84  # times the previous turn's similarity, when that turn is a question
_NO_NEIGHBOUR = 3.0  # a missing neighbour scores this far below the message (the first turn has none before it)
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Asked:
    """What a question names beyond its words: people the memory knows, and a time."""

    names: frozenset[str] = frozenset()
    span: Span | None = None


@dataclass(frozen=True)
class Candidate:
    """What a search knows of one item; a rank or score is None where that half did not find it."""

    text: str
    meta: Mapping[str, Any]
    similarity: float
    vector_rank: int | None = None
    keyword_rank: int | None = None
    keyword_score: float = 0.0  # BM25, over the best keyword find's

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
    known = dict(candidates)
    known |= read({n for c in candidates.values() for n in c.neighbours if n and n not in known})
    own = {id_: own_score(c, asked) for id_, c in known.items()}
    best = sorted(candidates, key=own.__getitem__, reverse=True)[:EXPANDED]
    joined = {n for id_ in best for n in known[id_].neighbours if n in known}
    shown = candidates.keys() | joined
    if missing := {n for id_ in joined for n in known[id_].neighbours if n and n not in known}:
        more = read(missing)
        known |= more
        own |= {id_: own_score(c, asked) for id_, c in more.items()}
    scored = [(id_, known[id_], _score(id_, known, own)) for id_ in shown]
    return sorted(scored, key=lambda row: -row[2])[:k]


def own_score(c: Candidate, asked: Asked) -> float:
    """The candidate's score on its own (higher first)."""
    speaker = str(c.meta.get("speaker", ""))
    own = c.text[len(speaker) + 2 :] if speaker and c.text.startswith(f"{speaker}: ") else c.text
    features = {
        "similarity": c.similarity,
        "vector_rank": math.log1p(POOL if c.vector_rank is None else c.vector_rank),
        "keyword_rank": math.log1p(POOL if c.keyword_rank is None else c.keyword_rank),
        "keyword_score": c.keyword_score,
        "said_by_named": float(bool(asked.names & _names(speaker))),
        "with_named": float(bool(asked.names & _names(str(c.meta.get("people", ""))))),
        "is_question": _is_question(c),
        "length": math.log1p(len(own.split())),
    }
    if asked.span is not None:
        inside = any(span.overlaps(asked.span) for span in _spans(c.meta))
        features["in_asked_time"], features["outside_asked_time"] = float(inside), float(not inside)
    return sum(_OWN[name] * value for name, value in features.items())


def _score(id_: str, known: Mapping[str, Candidate], own: Mapping[str, float]) -> float:
    before, after = known[id_].neighbours
    mine = own[id_]
    value = _OWN_WEIGHT * mine
    value += _BEFORE * own.get(before, mine - _NO_NEIGHBOUR) + _AFTER * own.get(after, mine - _NO_NEIGHBOUR)
    if before in known:
        value += _AFTER_QUESTION * _is_question(known[before]) * known[before].similarity
    return value


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
