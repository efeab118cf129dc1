"""Fit the search's ranking weights (persona.memory.rerank.WEIGHTS) on LoCoMo, cross-validated by conversation.

    .venv/bin/python benchmarks/locomo_fit.py ../shared/evals/locomo/locomo_conversations_0-4.json [--work DIR]

Builds a home from the conversations as `persona eval memory` does (kept in --work for reruns), records
each question's candidates as the search hands them to the ranking, and fits one weight per feature by
a listwise logistic loss: a softmax over the question's candidates, the evidence messages its target.
Each conversation is ranked with weights fitted on the others; its evidence recall@4 is printed per
category beside the current weights', then the weights fitted on all of them, to paste into rerank.py.
"""

from __future__ import annotations

import argparse
import json
import tempfile
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from persona.evals.memory import CATEGORIES, PROMPT_HITS, Question, load, write_exports
from persona.home import Home
from persona.memory import rerank
from persona.memory.embedding import Embedder
from persona.memory.ingest import ingest
from persona.memory.store import MemoryStore
from persona.profile import Audience, Owner, Profile
from persona.settings import Settings

NAMES = list(rerank.WEIGHTS)


@dataclass
class Asked:
    """One question's candidates as the search handed them over, and every neighbour a ranking may read."""

    question: Question
    candidates: dict[str, rerank.Candidate]
    known: dict[str, rerank.Candidate]
    asked: rerank.Asked
    evidence: set[str]  # ids of the evidence messages' items

    def read(self, ids: Collection[str]) -> Mapping[str, rerank.Candidate]:
        return {id_: self.known[id_] for id_ in ids if id_ in self.known}

    def matrix(self) -> tuple[np.ndarray, np.ndarray]:
        """Features of every known item (rows) and which are evidence."""
        ids = list(self.known)
        rows = [rerank.features(id_, self.known, self.asked) for id_ in ids]
        return (
            np.array([[row.get(name, 0.0) for name in NAMES] for row in rows]),
            np.array([id_ in self.evidence for id_ in ids], dtype=float),
        )


def record(data: Path, work: Path) -> list[Asked]:
    conversations = load(data)
    settings = Settings().model_copy(update={"chroma_url": None})
    store_path = work / "home"
    fresh = not store_path.exists()
    sources_path = work / "sources.json"
    store = MemoryStore(Home(store_path).ensure(), settings, Embedder(settings))
    if fresh:
        sources = write_exports(conversations, work / "exports")
        owner = conversations[0].speakers[0]
        profile = Profile(owner=Owner(name=owner, emails=[f"{owner.lower()}@locomo.example"]))
        ingest([work / "exports"], store=store, profile=profile, audience=Audience.OWNER)
        sources_path.write_text(json.dumps(sources))
    sources = json.loads(sources_path.read_text())
    store.keep_vectors_in_memory()
    seen: list[tuple[dict[str, rerank.Candidate], rerank.Reader, rerank.Asked]] = []
    ranked = rerank.ranked

    def recording(
        candidates: Mapping[str, rerank.Candidate], read: rerank.Reader, asked: rerank.Asked, k: int
    ) -> list[tuple[str, rerank.Candidate, float]]:
        seen.append((dict(candidates), read, asked))
        return ranked(candidates, read, asked, k)

    rerank.ranked = recording  # type: ignore[assignment]
    recorded = []
    try:
        for q in (q for conv in conversations for q in conv.questions):
            seen.clear()
            store.search(q.question, [Audience.OWNER], k=10, kind="knowledge")
            candidates, read, asked = seen[0]
            known = rerank.with_neighbours(candidates, read)
            known |= read({n for c in known.values() for n in c.neighbours if n and n not in known})
            wanted = set(q.evidence)
            evidence = {id_ for id_, c in known.items() if sources.get(str(c.meta.get("source"))) in wanted}
            recorded.append(Asked(q, candidates, known, asked, evidence))
    finally:
        rerank.ranked = ranked  # type: ignore[assignment]
    return recorded


def fit(questions: list[Asked], l2: float = 1e-5, steps: int = 2000) -> np.ndarray:
    """Weights minimising the mean listwise loss (Adam, full batch, all questions in one matrix)."""
    parts = [(x, y / y.sum()) for x, y in (q.matrix() for q in questions) if y.sum()]
    x = np.concatenate([p[0] for p in parts])
    target = np.concatenate([p[1] for p in parts])
    starts = np.cumsum([0] + [len(p[0]) for p in parts[:-1]])
    group = np.repeat(np.arange(len(parts)), [len(p[0]) for p in parts])
    w, m, v = np.zeros(len(NAMES)), np.zeros(len(NAMES)), np.zeros(len(NAMES))
    for step in range(1, steps + 1):
        s = x @ w
        e = np.exp(s - np.maximum.reduceat(s, starts)[group])
        p = e / np.add.reduceat(e, starts)[group]
        grad = x.T @ (p - target) / len(parts) + 2 * l2 * w
        m, v = 0.9 * m + 0.1 * grad, 0.999 * v + 0.001 * grad**2
        w -= 0.05 * (m / (1 - 0.9**step)) / (np.sqrt(v / (1 - 0.999**step)) + 1e-8)
    return w


def found(q: Asked, weights: Mapping[str, float]) -> float:
    """The share of the question's evidence in its top 4 with these weights, ranked as the search ranks."""
    saved = dict(rerank.WEIGHTS)
    rerank.WEIGHTS.update(weights)
    try:
        top = {id_ for id_, _, _ in rerank.ranked(q.candidates, q.read, q.asked, PROMPT_HITS)}
    finally:
        rerank.WEIGHTS.update(saved)
    return len(q.evidence & top) / len(q.question.evidence)


def recall(rows: list[tuple[Asked, float]]) -> dict[str, float]:
    """Mean recall@4 overall and per category."""
    groups: dict[str, list[float]] = {"all": [], **{c: [] for c in CATEGORIES.values()}}
    for q, value in rows:
        groups["all"].append(value)
        groups[q.question.category].append(value)
    return {group: round(float(np.mean(values)), 3) for group, values in groups.items() if values}


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").split("\n")[0])
    parser.add_argument("data", type=Path)
    parser.add_argument("--work", type=Path, help="keep the home here and reuse it on the next run")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="locomo-fit-") as tmp:
        questions = record(args.data, args.work or Path(tmp))
    crossed = []
    for held_out in sorted({q.question.conversation for q in questions}):
        weights = dict(
            zip(NAMES, fit([q for q in questions if q.question.conversation != held_out]).tolist())
        )
        crossed += [(q, found(q, weights)) for q in questions if q.question.conversation == held_out]
    print("recall@4, current weights:     ", recall([(q, found(q, rerank.WEIGHTS)) for q in questions]))
    print("recall@4, cross-validated fits:", recall(crossed))
    print(
        "weights fitted on all:",
        {name: round(value, 2) for name, value in zip(NAMES, fit(questions).tolist())},
    )


if __name__ == "__main__":
    main()
