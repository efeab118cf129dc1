"""The memory store: one Chroma collection of the owner's knowledge and writing exemplars.

Every item carries an audience label. Searches put the allowed audiences into Chroma's `where`
clause, so an item outside them is never even a candidate; ranking happens after that filter.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Collection, Iterable
from datetime import datetime
from typing import Any, Literal
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel, Field

from persona.errors import ConfigError
from persona.home import Home
from persona.memory.embedding import Embedder
from persona.profile import Audience
from persona.settings import Settings

ItemKind = Literal["knowledge", "exemplar"]
COLLECTION = "memory"
_RRF_K = 60  # the usual reciprocal-rank-fusion constant; damps the weight of top ranks
_ADD_BATCH = 256


class MemoryItem(BaseModel):
    """One stored text. `metadata` holds doc_id, author, recipients, date, subject, thread_id, source
    and anything else (str/int/float/bool values); kind, audience and content_hash are added on save."""

    id: str
    text: str
    kind: ItemKind
    audience: Audience
    metadata: dict[str, str | int | float | bool] = {}

    @classmethod
    def make(
        cls, text: str, kind: ItemKind, audience: Audience, **metadata: str | float | bool | None
    ) -> MemoryItem:
        """An item whose id is a hash of its content, kind and audience, so re-ingesting adds nothing."""
        digest = hashlib.sha256(f"{kind}\0{audience.value}\0{text}".encode()).hexdigest()[:32]
        return cls(
            id=digest,
            text=text,
            kind=kind,
            audience=audience,
            metadata={k: v for k, v in metadata.items() if v is not None},
        )


class Hit(BaseModel):
    text: str
    score: float  # fused rank score: only for ordering
    similarity: float  # cosine similarity to the query: for "is anything relevant at all?" thresholds
    metadata: dict[str, Any] = Field(default_factory=dict)


def date_metadata(date: datetime | None) -> dict[str, str | int]:
    """Dates are kept twice: ISO for people, epoch seconds for range filters in `where`."""
    if date is None:
        return {"date": "", "date_epoch": 0}
    return {"date": date.isoformat(), "date_epoch": int(date.timestamp())}


class MemoryStore:
    def __init__(self, home: Home, settings: Settings, embedder: Embedder) -> None:
        self.home = home
        self.embedder = embedder
        self._client = _client(home, settings)
        self._collection = self._client.get_or_create_collection(
            COLLECTION,
            configuration={"hnsw": {"space": "cosine"}},
            metadata={"embedding_model": embedder.name},
            embedding_function=None,  # vectors always come from our Embedder, never Chroma's default
        )
        built_with = (self._collection.metadata or {}).get("embedding_model")
        if built_with and built_with != embedder.name:
            raise ConfigError(
                f"memory in {home.memory_dir} was built with embedding model {built_with!r}, "
                f"not {embedder.name!r}; set PERSONA_EMBEDDING_MODEL back or start a fresh memory"
            )

    # --- writing -----------------------------------------------------------------------------------

    def add(self, items: list[MemoryItem]) -> int:
        """Store the items not stored yet (same id = same content); returns how many were new."""
        unique = list({item.id: item for item in items}.values())
        added = 0
        for start in range(0, len(unique), _ADD_BATCH):
            batch = unique[start : start + _ADD_BATCH]
            present = set(self._collection.get(ids=[i.id for i in batch], include=[])["ids"])
            new = [item for item in batch if item.id not in present]
            if not new:
                continue
            # an owner's short message is both a knowledge chunk and an exemplar: embed it once
            texts = list(dict.fromkeys(item.text for item in new))
            vectors = dict(zip(texts, self.embedder.embed(texts)))
            self._collection.add(
                ids=[item.id for item in new],
                embeddings=[vectors[item.text] for item in new],
                documents=[item.text for item in new],
                metadatas=[_metadata(item) for item in new],
            )
            added += len(new)
        return added

    def delete_source(self, source: str) -> None:
        self._collection.delete(where={"source": source})

    # --- reading -----------------------------------------------------------------------------------

    def count(self, kind: ItemKind | None = None) -> int:
        if kind is None:
            return self._collection.count()
        return len(self._collection.get(where={"kind": kind}, include=[])["ids"])

    def search(
        self,
        query: str,
        audiences: Collection[Audience],
        k: int = 5,
        kind: ItemKind | None = None,
        where: dict[str, Any] | None = None,
    ) -> list[Hit]:
        """Best `k` items among those the audiences may see: vector and keyword rankings fused (RRF)."""
        allowed = sorted({Audience(a).value for a in audiences})
        if not allowed or not query.strip() or k <= 0:
            return []
        clauses: list[dict[str, Any]] = [{"audience": {"$in": allowed}}]
        if kind:
            clauses.append({"kind": kind})
        if where:
            clauses.append(where)
        scope = clauses[0] if len(clauses) == 1 else {"$and": clauses}
        pool = max(4 * k, 20)
        query_vector = self.embedder.embed_query(query)
        found = self._collection.query(
            query_embeddings=[query_vector], n_results=pool, where=scope, include=_INCLUDE
        )
        candidates = _rows(
            found["ids"][0], found["documents"][0], found["metadatas"][0], found["embeddings"][0]
        )
        terms = _terms(query)
        if terms:
            got = self._collection.get(
                where=scope, where_document=_contains_any(query, terms), limit=5 * pool, include=_INCLUDE
            )
            for id_, row in _rows(got["ids"], got["documents"], got["metadatas"], got["embeddings"]).items():
                candidates.setdefault(id_, row)

        # both rankings cover every candidate, so a keyword-only find still gets its vector rank
        similarity = {id_: float(np.dot(query_vector, row[2])) for id_, row in candidates.items()}
        vector_rank = sorted(candidates, key=lambda i: -similarity[i])
        # a mail's subject names its topic better than any sentence of its body
        keyword_rank = _bm25_rank(
            terms, {id_: f"{row[1].get('subject', '')} {row[0]}" for id_, row in candidates.items()}
        )
        fused: Counter[str] = Counter()
        for ranking in (vector_rank, keyword_rank):
            for rank, id_ in enumerate(ranking):
                fused[id_] += 1.0 / (_RRF_K + rank + 1)
        return [
            Hit(text=candidates[id_][0], score=score, similarity=similarity[id_], metadata=candidates[id_][1])
            for id_, score in fused.most_common(k)
        ]

    def exemplars(
        self, query: str, audiences: Collection[Audience], k: int = 3, where: dict[str, Any] | None = None
    ) -> list[Hit]:
        """The owner's own past messages most like `query`: few-shot material for drafting."""
        return self.search(query, audiences, k=k, kind="exemplar", where=where)

    def exemplar_texts(self, doc_kind: str = "mail") -> list[str]:
        """Every stored exemplar text of one document kind (for the style card; owner-side only)."""
        got = self._collection.get(
            where={"$and": [{"kind": "exemplar"}, {"doc_kind": doc_kind}]}, include=["documents"]
        )
        return list(got["documents"] or [])


def _client(home: Home, settings: Settings) -> Any:
    chroma_settings = ChromaSettings(anonymized_telemetry=False)
    if settings.chroma_url:
        url = urlparse(settings.chroma_url)
        if not url.hostname:
            raise ConfigError(
                f"PERSONA_CHROMA_URL: {settings.chroma_url!r} is not a URL like http://host:8000"
            )
        https = url.scheme == "https"
        return chromadb.HttpClient(
            host=url.hostname, port=url.port or (443 if https else 8000), ssl=https, settings=chroma_settings
        )
    path = home.memory_dir / "chroma"
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


_INCLUDE: Any = ["documents", "metadatas", "embeddings"]
_Row = tuple[str, dict[str, Any], Any]  # text, metadata, embedding


def _rows(ids: list[str], docs: Any, metas: Any, vectors: Any) -> dict[str, _Row]:
    return {id_: (doc, dict(meta), vec) for id_, doc, meta, vec in zip(ids, docs, metas, vectors)}


def _contains_any(query: str, terms: list[str]) -> dict[str, Any]:
    """A where_document matching any term; $contains is case-sensitive, so try the usual casings."""
    spelled = {w.lower(): w for w in re.findall(r"[A-Za-z0-9][A-Za-z0-9'\-]*", query)}
    variants = [
        {"$contains": v}
        for t in terms
        for v in dict.fromkeys((t, t.capitalize(), t.upper(), spelled.get(t, t)))
    ]
    return variants[0] if len(variants) == 1 else {"$or": variants}


def _metadata(item: MemoryItem) -> dict[str, str | int | float | bool]:
    return {
        **item.metadata,
        "kind": item.kind,
        "audience": item.audience.value,
        "content_hash": hashlib.sha256(item.text.encode()).hexdigest(),
    }


# --- keyword scoring -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9][a-z0-9'\-]*")
_STOP = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i if in is it its me my "
    "no not of on or our she he so that the their them then there these they this to was we were what "
    "when where which who why will with would you your about any all also been into just more some than "
    "tell know".split()
)


def _terms(query: str) -> list[str]:
    """Distinct content words of a query, longest first (a crude proxy for rarity), at most six."""
    words = {w for w in _WORD.findall(query.lower()) if w not in _STOP and len(w) > 2}
    return sorted(words, key=lambda w: (-len(w), w))[:6]


def _bm25_rank(terms: Iterable[str], docs: dict[str, str], k1: float = 1.2, b: float = 0.75) -> list[str]:
    """Ids of docs containing any term, best BM25 first; statistics come from the candidate pool."""
    terms = list(terms)
    if not terms or not docs:
        return []
    tokens = {id_: _WORD.findall(text.lower()) for id_, text in docs.items()}
    avg_len = sum(len(t) for t in tokens.values()) / len(tokens) or 1.0
    df = Counter(term for toks in tokens.values() for term in set(toks) & set(terms))
    scores: dict[str, float] = {}
    for id_, toks in tokens.items():
        tf = Counter(toks)
        score = 0.0
        for term in terms:
            if tf[term]:
                idf = math.log(1 + (len(docs) - df[term] + 0.5) / (df[term] + 0.5))
                score += idf * tf[term] * (k1 + 1) / (tf[term] + k1 * (1 - b + b * len(toks) / avg_len))
        if score > 0:
            scores[id_] = score
    return sorted(scores, key=lambda i: -scores[i])
