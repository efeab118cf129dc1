"""Retrieval quality of MemoryStore.search on the demo corpus: MRR@10 and recall@4 over labelled questions.

    .venv/bin/python evals/retrieval/quality.py [--home DIR]   # DIR: a home with the demo corpus ingested

Without --home it ingests configs/demo/corpus into a temporary home first (about a minute on 2 cores).
"""

from __future__ import annotations

import argparse
import tempfile
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel

from persona.home import Home
from persona.memory.embedding import Embedder
from persona.memory.ingest import ingest
from persona.memory.store import MemoryStore
from persona.profile import Audience, load_profile
from persona.settings import Settings

HERE = Path(__file__).resolve().parent
DEMO = HERE.parents[1] / "configs" / "demo"
TOP = 10  # ranks looked at for MRR
PROMPT_HITS = 4  # passages a turn puts in its prompt
SEES = {"owner": [Audience.OWNER, Audience.TEAM, Audience.PUBLIC], "team": [Audience.TEAM, Audience.PUBLIC]}


class Query(BaseModel):
    question: str
    asker: Literal["owner", "team"]
    answers: list[str]

    def answered_by(self, text: str) -> bool:
        lowered = text.lower()
        return any(a.lower() in lowered for a in self.answers)


class Scored(BaseModel):
    question: str
    rank: int | None  # 1-based rank of the first relevant hit in the top TOP; None if none
    in_prompt: bool  # a relevant hit among the PROMPT_HITS a turn asks for


class Quality(BaseModel):
    mrr: float
    recall_at_4: float
    queries: list[Scored]


def load_queries(path: Path = HERE / "queries.yaml") -> list[Query]:
    return [Query.model_validate(q) for q in yaml.safe_load(path.read_text(encoding="utf-8"))["queries"]]


def ingest_demo(store: MemoryStore, data: Path = DEMO) -> None:
    """The demo's memory, as `persona demo` builds it: each corpus folder under its own audience."""
    profile = load_profile(data / "persona.yaml")
    for audience in (Audience.TEAM, Audience.OWNER, Audience.PUBLIC):
        ingest([data / "corpus" / audience.value], store=store, profile=profile, audience=audience)


def evaluate(store: MemoryStore, queries: list[Query]) -> Quality:
    scored = []
    for q in queries:
        hits = store.search(q.question, SEES[q.asker], k=TOP, kind="knowledge")
        rank = next((i + 1 for i, hit in enumerate(hits) if q.answered_by(hit.text)), None)
        # the pool a search draws from grows with k, so ask for exactly what a turn asks for
        prompt = store.search(q.question, SEES[q.asker], k=PROMPT_HITS, kind="knowledge")
        scored.append(
            Scored(question=q.question, rank=rank, in_prompt=any(q.answered_by(h.text) for h in prompt))
        )
    return Quality(
        mrr=round(sum(1 / s.rank for s in scored if s.rank) / len(scored), 3),
        recall_at_4=round(sum(s.in_prompt for s in scored) / len(scored), 3),
        queries=scored,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--home", type=Path, help="a home with the demo corpus already ingested")
    args = parser.parse_args()
    settings = Settings(chroma_url=None)
    embedder = Embedder(settings)
    with tempfile.TemporaryDirectory(prefix="persona-retrieval-quality-") as tmp:
        store = MemoryStore(Home(args.home or Path(tmp)).ensure(), settings, embedder)
        if args.home is None:
            ingest_demo(store)
        quality = evaluate(store, load_queries())
    for s in quality.queries:
        print(f"{s.rank or '-':>3} {'in prompt' if s.in_prompt else '         '}  {s.question}")
    print(
        f"MRR@{TOP} {quality.mrr}  recall@{PROMPT_HITS} {quality.recall_at_4}  ({len(quality.queries)} questions)"
    )


if __name__ == "__main__":
    main()
