"""What memory holds, as the owner looks at it: its sources with their counts and dates, and search
hits that say where each came from. The CLI (`persona memory sources`) and the desk's API share it.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Collection
from typing import Any

from pydantic import BaseModel

from persona.memory.store import MemoryStore
from persona.profile import Audience

_OVERFETCH = 3  # hits asked for per one shown: the same text is often stored as knowledge and exemplar


class SourceSummary(BaseModel):
    source: str  # a file path as ingest was given it (a message of an mbox is its file), or a label
    items: int
    kinds: dict[str, int]
    audiences: list[str]
    first_date: str | None  # the earliest and latest date of its documents (ISO), when they have one
    last_date: str | None
    runs: list[str]  # the ingest runs that added its items; none for items from before runs had ids


class MemoryHit(BaseModel):
    id: str
    text: str
    audience: str
    kind: str
    source: str
    date: str | None
    score: float


def source_of(meta: dict[str, Any]) -> str:
    """The file (or label) an item came from: a message's `box.mbox#12` or a chat's `chat.json#3` is
    its file."""
    return str(meta.get("source") or "").split("#", 1)[0]


def sources(store: MemoryStore) -> list[SourceSummary]:
    """Every source with what it holds, by source."""
    grouped: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for _, meta in store.entries():
        grouped[source_of(meta)].append(meta)
    return [_summary(source, metas) for source, metas in sorted(grouped.items())]


def _summary(source: str, metas: list[dict[str, Any]]) -> SourceSummary:
    dates = sorted(str(m["date"]) for m in metas if m.get("date"))
    return SourceSummary(
        source=source,
        items=len(metas),
        kinds=dict(Counter(str(m.get("kind", "")) for m in metas)),
        audiences=sorted({str(m.get("audience", "")) for m in metas}),
        first_date=dates[0] if dates else None,
        last_date=dates[-1] if dates else None,
        runs=sorted({str(m["ingest_run"]) for m in metas if m.get("ingest_run")}),
    )


def search(store: MemoryStore, query: str, audiences: Collection[Audience], k: int) -> list[MemoryHit]:
    """The best `k` items for `query`, each text of a source once (an owner's mail is stored as
    knowledge and as an exemplar: the first, best ranked, stands for both)."""
    shown: dict[tuple[str, str], MemoryHit] = {}
    for hit in store.search(query, audiences, k=k * _OVERFETCH):
        meta = hit.metadata
        key = (hit.text, source_of(meta))
        if key not in shown:
            shown[key] = MemoryHit(
                id=hit.id,
                text=hit.text,
                audience=str(meta.get("audience", "")),
                kind=str(meta.get("kind", "")),
                source=key[1],
                date=str(meta["date"]) if meta.get("date") else None,
                score=hit.score,
            )
    return list(shown.values())[:k]
