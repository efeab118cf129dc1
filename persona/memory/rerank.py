"""The order a search's candidates are shown in: one score from vector, keyword, people and time signals.

The vector and keyword halves of a search each find up to `POOL` candidates; each candidate is then
scored by a weighted sum of what is known about it, and the best are shown. The weights are a logistic
regression fitted on the candidates of the questions of LoCoMo conversations 0–4 (`persona eval memory`;
cross-validated by conversation: evidence recall@4 0.64 against 0.49 for rank fusion alone), which is why they are few and plain:
- how near its vector is, and its ranks in the vector and keyword halves;
- whether it was said by someone the question names, or in a conversation with them;
- whether its date, or a date it mentions, falls in the time the question asks about;
- whether it is a question itself (an answer holds the fact, a question rarely does), and its length
  (a two-word reply holds little).
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from persona.memory.dates import Span

POOL = 50  # candidates each half of a search hands to the ranking (LoCoMo: 100 found no more, at +2.6 ms)

_WEIGHTS = {
    "similarity": 1.12,
    "vector_rank": -0.55,  # log(1 + rank): the first few places matter, the 80th and 90th alike
    "keyword_rank": -0.77,
    "said_by_named": 2.49,
    "with_named": 0.71,
    "in_asked_time": 1.05,
    "outside_asked_time": -1.66,
    "is_question": -0.50,
    "length": 1.23,  # log(1 + words)
}
_WORDS = re.compile(r"[a-z0-9]+")


@dataclass(frozen=True)
class Asked:
    """What a question names beyond its words: people the memory knows, and a time."""

    names: frozenset[str] = frozenset()
    span: Span | None = None


def score(
    text: str, meta: Mapping[str, Any], similarity: float, vector_rank: int | None, keyword_rank: int | None,
    asked: Asked,
) -> float:
    """The candidate's score (higher first); a rank is None where that half did not find it."""
    speaker = str(meta.get("speaker", ""))
    own = text[len(speaker) + 2 :] if speaker and text.startswith(f"{speaker}: ") else text
    features = {
        "similarity": similarity,
        "vector_rank": math.log1p(POOL if vector_rank is None else vector_rank),
        "keyword_rank": math.log1p(POOL if keyword_rank is None else keyword_rank),
        "said_by_named": float(bool(asked.names & _names(speaker))),
        "with_named": float(bool(asked.names & _names(str(meta.get("people", ""))))),
        "is_question": float(own.rstrip().endswith("?")),
        "length": math.log1p(len(own.split())),
    }
    if asked.span is not None:
        inside = any(span.overlaps(asked.span) for span in _spans(meta))
        features["in_asked_time"], features["outside_asked_time"] = float(inside), float(not inside)
    return sum(_WEIGHTS[name] * value for name, value in features.items())


def _names(text: str) -> set[str]:
    """The words of names and addresses: "Dana Reyes, sam@example.com" → dana, reyes, sam, example, com."""
    return set(_WORDS.findall(text.lower()))


def _spans(meta: Mapping[str, Any]) -> list[Span]:
    """When the item was written, and the dates it mentions (resolved at ingest)."""
    found = [Span.decode(str(meta.get("date", ""))[:10])]
    found += [Span.decode(part) for part in str(meta.get("dates", "")).split(";") if part]
    return [span for span in found if span is not None]
