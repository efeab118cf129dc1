"""The memory store: one Chroma collection of the owner's knowledge and writing exemplars, and a
full-text index beside it (persona.memory.keywords) for the keyword half of hybrid search.

Every item carries an audience label. A search ranks only items whose audience it was given (Chroma's
`where`, or the audience the keyword index keeps beside each item), and shows an item only if its
audience agrees as Chroma holds it, or as the keyword index holds it beside a text that hashes, with
that audience and kind, to the item's id.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
import re
import threading
from collections.abc import Collection, Iterator, Mapping
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Literal
from urllib.parse import urlparse

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from chromadb.errors import ChromaError
from pydantic import BaseModel, Field

from persona.errors import ConfigError
from persona.home import Home
from persona.memory import rerank
from persona.memory.dates import asked_span
from persona.memory.embedding import Embedder
from persona.memory.focus import FOCUS_TOKENS, focused
from persona.memory.keywords import KeywordIndex
from persona.memory.vectors import VectorMatrix
from persona.profile import Audience
from persona.settings import Settings

# knowledge: what anyone wrote, to answer from; exemplar: what the owner wrote, to write like;
# situation: a mail the owner answered, stored with the answer, to decide like the owner.
ItemKind = Literal["knowledge", "exemplar", "situation"]
COLLECTION = "memory"
_OVERFETCH = 4  # neighbours asked for per one wanted, before the audience and kind are applied
_ADD_BATCH = 256
_SYNC_BATCH = 5000
_PREFETCHED = 64  # searches started ahead and not asked for yet; the oldest beyond this nobody will ask for
_CONTEXT_WEIGHT = (
    0.5  # how far an item's context draws its vector from its own text's (LoCoMo: 0.5 ≈ 0.8 > 0)
)
_HELD_ITEMS = 2_000_000  # the most items whose vectors `keep_vectors_in_memory` holds (3 GB at 384 dims)
_EXACT_ITEMS = 10_000  # above this, held vectors are searched a few groups at a time (persona.memory.groups)
_NO_ITEM = "no-such-item"  # deleted to bring embedded Chroma up to date with other processes (`_caught_up`)


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
        cls,
        text: str,
        kind: ItemKind,
        audience: Audience,
        context: str = "",
        **metadata: str | float | bool | None,
    ) -> MemoryItem:
        """An item whose id is a hash of its content, kind and audience, so re-ingesting adds nothing.
        `context` is what the text answers where it was said (a chat message's turn before it): the
        item is found by it too, weighed less than its own words, and it is part of its identity."""
        return cls(
            id=_item_id(kind, audience.value, text, context),
            text=text,
            kind=kind,
            audience=audience,
            metadata={k: v for k, v in (metadata | {"context": context or None}).items() if v is not None},
        )


class Hit(BaseModel):
    text: str
    score: float  # fused rank score: only for ordering
    similarity: float  # cosine similarity to the query: for "is anything relevant at all?" thresholds
    metadata: dict[str, Any] = Field(default_factory=dict)
    id: str = ""  # the item's; empty from memories that are no MemoryStore (tests, evals)


def date_metadata(date: datetime | None) -> dict[str, str | int]:
    """Dates are kept twice: ISO for people, epoch seconds for range filters in `where`."""
    if date is None:
        return {"date": "", "date_epoch": 0}
    return {"date": date.isoformat(), "date_epoch": int(date.timestamp())}


class MemoryStore:
    """The owner's memory in one home: add, search (vector and keyword, reranked) and forget.

    Guarantees: an item's id is its content, audience and kind, so adding it again stores nothing new; a
    search returns only items whose audience it was given, checked again on what comes back; vectors
    come only from the home's Embedder, and a collection built by another model is refused.
    """

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
        home.memory_dir.mkdir(parents=True, exist_ok=True)
        self._keywords = KeywordIndex(home.keywords_db)
        # a search's keyword half runs here while the question is embedded (both release the GIL); each
        # thread reads the index on a connection of its own, so concurrent searches do not queue
        self._keyword_searches = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="keyword-search")
        self._prefetching = ThreadPoolExecutor(os.cpu_count() or 1, thread_name_prefix="memory-search")
        self._prefetched: dict[tuple[object, ...], Future[dict[ItemKind | None, list[Hit]]]] = {}
        self._prefetched_lock = threading.Lock()
        # (audience, kind) by id, read from the keyword index once: an id is a hash of its item's kind,
        # audience and text, and `add` never rewrites a stored id, so an id's scope stays what it was
        self._scopes: dict[str, tuple[str, str]] = {}
        self._held: VectorMatrix | None = None
        self._embedded = not settings.chroma_url
        self._chroma_version = (
            self._keywords.version()
        )  # the keyword index's when Chroma was last brought up to date
        self._catching_up = threading.Lock()
        if self._keywords.count() != self._collection.count():
            self._reindex_keywords()  # a memory from before the index, or an add cut off between the two

    def _reindex_keywords(self) -> None:
        self._keywords.clear()
        total = self._collection.count()
        for offset in range(0, total, _SYNC_BATCH):
            got = self._collection.get(limit=_SYNC_BATCH, offset=offset, include=["documents", "metadatas"])
            self._keywords.add(
                _keyword_row(id_, doc, meta)
                for id_, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])
            )

    def keep_vectors_in_memory(self, limit: int = _HELD_ITEMS, exact: int = _EXACT_ITEMS) -> bool:
        """For a long-running process: nearest neighbours come from a matrix of every item's vector
        (persona.memory.vectors), read now, while the memory holds at most `limit` items; exactly up to
        `exact` items, above that from the nearest groups of vectors. Whether it holds them now."""
        self._caught_up()
        self._held = VectorMatrix(self._keywords, self._collection, limit, exact)
        self._held.refresh()
        return self._held.holding

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
            contexts = [str(item.metadata.get("context", "")) for item in new]
            texts = list(dict.fromkeys([item.text for item in new] + [c for c in contexts if c]))
            vectors = dict(zip(texts, self.embedder.embed(texts)))
            metadatas = [_metadata(item) for item in new]
            self._collection.add(
                ids=[item.id for item in new],
                embeddings=[
                    _with_context(vectors[item.text], vectors.get(c)) for item, c in zip(new, contexts)
                ],
                documents=[item.text for item in new],
                metadatas=metadatas,  # type: ignore[arg-type]
            )
            self._keywords.add(_keyword_row(item.id, item.text, meta) for item, meta in zip(new, metadatas))
            added += len(new)
        return added

    def delete(self, ids: Collection[str]) -> int:
        """Remove these items from Chroma and the keyword index (held vectors follow the index);
        returns how many were stored."""
        asked = list(dict.fromkeys(ids))
        stored = [
            id_
            for start in range(0, len(asked), _SYNC_BATCH)
            for id_ in self._collection.get(ids=asked[start : start + _SYNC_BATCH], include=[])["ids"]
        ]
        for start in range(0, len(stored), _SYNC_BATCH):
            batch = stored[start : start + _SYNC_BATCH]
            self._collection.delete(ids=batch)
            self._keywords.delete(batch)
        for id_ in stored:
            self._scopes.pop(id_, None)
        with self._prefetched_lock:
            self._prefetched.clear()  # a search started before may hold what is gone
        return len(stored)

    def delete_source(self, source: str) -> int:
        """Remove the items whose `source` is exactly this; persona.memory.forget matches files and folders."""
        return self.delete(self._collection.get(where={"source": source}, include=[])["ids"])

    # --- reading -----------------------------------------------------------------------------------

    def entries(
        self, where: dict[str, Any] | None = None, ids: list[str] | None = None
    ) -> list[tuple[str, dict[str, Any]]]:
        """(id, metadata) of every item, or of those `where` admits, or of these `ids` that are stored:
        for listing and forgetting."""
        if ids is not None:
            got = self._collection.get(ids=ids, where=where, include=["metadatas"]) if ids else {"ids": []}
            return [(id_, dict(meta or {})) for id_, meta in zip(got["ids"], got.get("metadatas") or [])]
        found: list[tuple[str, dict[str, Any]]] = []
        total = self._collection.count()
        for offset in range(0, total, _SYNC_BATCH):
            got = self._collection.get(where=where, limit=_SYNC_BATCH, offset=offset, include=["metadatas"])
            found.extend((id_, dict(meta or {})) for id_, meta in zip(got["ids"], got["metadatas"]))
            if len(got["ids"]) < _SYNC_BATCH:
                break
        return found

    def texts(self) -> Iterator[tuple[str, str, dict[str, Any]]]:
        """(id, text, metadata) of every item, a batch at a time: for checks over the whole memory."""
        for offset in range(0, self._collection.count(), _SYNC_BATCH):
            got = self._collection.get(limit=_SYNC_BATCH, offset=offset, include=["documents", "metadatas"])
            yield from (
                (id_, doc or "", dict(meta or {}))
                for id_, doc, meta in zip(got["ids"], got["documents"], got["metadatas"])
            )

    def fingerprint(self) -> tuple[int, float]:
        """A value that changes when any item is added or removed, by this process or another: for
        caches of what memory holds (a count alone misses a delete and an add of as many)."""
        return self._keywords.fingerprint()

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
        """Best `k` items among those the audiences may see, ranked by persona.memory.rerank."""
        return self._search(query, audiences, {kind: k}, where)[kind]

    def search_kinds(
        self, query: str, audiences: Collection[Audience], ks: Mapping[ItemKind, int]
    ) -> dict[ItemKind, list[Hit]]:
        """`search` for several kinds with one vector query: a chat turn wants both facts and tone samples.
        A search `prefetch_kinds` started is not run again: its result is taken, once."""
        if (started := self._take_prefetched(query, audiences, ks)) is not None:
            return started.result()  # type: ignore[return-value]
        return self._search(query, audiences, dict(ks), None)  # type: ignore[return-value]

    async def asearch_kinds(
        self, query: str, audiences: Collection[Audience], ks: Mapping[ItemKind, int]
    ) -> dict[ItemKind, list[Hit]]:
        """`search_kinds` for the event loop: it waits for the search thread without a thread of its own."""
        started = self._take_prefetched(query, audiences, ks) or self._start(query, audiences, ks)
        return await asyncio.wrap_future(started)  # type: ignore[return-value]

    def focused(self, query: str, hits: list[Hit], tokens: int = FOCUS_TOKENS) -> list[Hit]:
        """`hits` with each long text cut to its lines closest to `query`, for a prompt (persona.memory.focus)."""
        texts = focused([h.text for h in hits], self.embedder.embed_query(query), self.embedder.embed, tokens)
        return [h if h.text == text else h.model_copy(update={"text": text}) for h, text in zip(hits, texts)]

    def _take_prefetched(
        self, query: str, audiences: Collection[Audience], ks: Mapping[ItemKind, int]
    ) -> Future[dict[ItemKind | None, list[Hit]]] | None:
        with self._prefetched_lock:
            return self._prefetched.pop(_search_key(query, audiences, ks), None)

    def prefetch_kinds(self, query: str, audiences: Collection[Audience], ks: Mapping[ItemKind, int]) -> None:
        """Start `search_kinds` in a thread for a search about to be asked for: a chat turn starts it as
        the message arrives, and sets itself up meanwhile."""
        key = _search_key(query, audiences, ks)
        with self._prefetched_lock:
            if key in self._prefetched:
                return
            if len(self._prefetched) >= _PREFETCHED:
                self._prefetched.pop(next(iter(self._prefetched)))
            self._prefetched[key] = self._start(query, audiences, ks)

    def _start(
        self, query: str, audiences: Collection[Audience], ks: Mapping[ItemKind, int]
    ) -> Future[dict[ItemKind | None, list[Hit]]]:
        return self._prefetching.submit(self._search, query, audiences, dict(ks), None)

    def _search(
        self, query: str, audiences: Collection[Audience], ks: dict[Any, int], where: dict[str, Any] | None
    ) -> dict[ItemKind | None, list[Hit]]:
        allowed = sorted({Audience(a).value for a in audiences})
        found: dict[ItemKind | None, list[Hit]] = {kind: [] for kind in ks}
        ks = {kind: k for kind, k in ks.items() if k > 0}
        if not allowed or not query.strip() or not ks:
            return found
        pools = {kind: max(4 * k, rerank.POOL) for kind, k in ks.items()}
        by_keyword = self._keyword_searches.submit(self._keyword_half, query, allowed, pools)
        query_vector = self.embedder.embed_query(query)
        nearest = self._nearest(query_vector, pools, allowed, where)
        asked, keyword, topic_vector = by_keyword.result()
        if where:  # the keyword index knows nothing of a caller's `where`: Chroma applies it to its finds
            keyword = {
                kind: self._admitted(scores, nearest[kind], allowed, kind, where)
                for kind, scores in keyword.items()
            }
        asked_of = _Query(np.asarray(query_vector, dtype=np.float32), None, {kind: {} for kind in ks})
        if topic_vector is not None:
            asked_of = _Query(
                asked_of.vector,
                np.asarray(topic_vector, dtype=np.float32),
                self._nearest(topic_vector, pools, allowed, where),
            )
        return found | self._ranked(ks, nearest, keyword, asked_of, allowed, asked, where is None)

    def _keyword_half(
        self, query: str, allowed: list[str], pools: dict[Any, int]
    ) -> tuple[rerank.Asked, dict[Any, dict[str, float]], list[float] | None]:
        """Whom and when the query asks about, and the keyword finds for the rest of its words: a name
        counts in the ranking as a person, not as a word every message of theirs would match. When it
        names people, also the vector of its topic, the query without their names: every message of
        theirs starts with a name, so the query's own vector is near all of them, and the topic's finds
        what they said about the thing asked (embedded here, beside the query's own embedding)."""
        span, rest = asked_span(query, date.today())
        terms = _terms(rest)
        names = self._keywords.people(terms, allowed)
        words = [t for t in terms if t not in names]
        topic = _without(query, names) if names else ""
        return (
            rerank.Asked.of(query, frozenset(names), span, frozenset(words)),
            self._keywords.search(words, allowed, pools),
            self.embedder.embed_query(topic) if topic else None,
        )

    def _nearest(
        self, vector: list[float], pools: dict[Any, int], allowed: list[str], where: dict[str, Any] | None
    ) -> dict[ItemKind | None, dict[str, float]]:
        """For each kind, its `pools[kind]` nearest items in scope, with their similarity. A `where` in
        Chroma's query first lists every item it admits (500 ms at 50k items for a filter that admits
        most), and Chroma's metadata costs ~75 µs an item returned, so without a caller's `where` this
        asks once for more neighbours, ids only, and reads their audience and kind from the keyword
        index; Chroma filters only for a kind too few of which were among them. Vectors held in memory
        (`keep_vectors_in_memory`) answer a search without a `where` exactly, and with no Chroma call."""
        self._caught_up()
        if (
            where is None
            and self._held is not None
            and (held := self._held.nearest(vector, pools, allowed)) is not None
        ):
            return held
        found: dict[ItemKind | None, dict[str, float]] = {}
        if where is None:
            want = sum(pools.values()) * _OVERFETCH
            got = self._collection.query(query_embeddings=[vector], n_results=want, include=["distances"])
            ids, distances = got["ids"][0], got["distances"][0]
            if unknown := [id_ for id_ in ids if id_ not in self._scopes]:
                self._scopes.update(self._keywords.scopes(unknown))
            scopes = self._scopes
            kept: dict[Any, dict[str, float]] = {kind: {} for kind in pools}
            for id_, distance in zip(ids, distances):
                audience, item_kind = scopes.get(id_, ("", ""))
                for kind, picked in kept.items():
                    if len(picked) < pools[kind] and audience in allowed and kind in (None, item_kind):
                        picked[id_] = 1 - distance
            whole = len(ids) < want  # that was the whole collection
            found = {kind: picked for kind, picked in kept.items() if whole or len(picked) == pools[kind]}
        for kind in pools.keys() - found.keys():
            got = self._collection.query(
                query_embeddings=[vector],
                n_results=pools[kind],
                where=_scope(allowed, kind, where),
                include=["distances"],
            )
            found[kind] = {id_: 1 - dist for id_, dist in zip(got["ids"][0], got["distances"][0])}
        return found

    def _caught_up(self) -> None:
        """Embedded Chroma keeps its vector index in this process and follows only this process's writes:
        what another process (an ingest, a forget) changed is missing from its neighbours, and reading
        such an item's vector fails, until this process next writes. Every writer commits to the keyword
        index after Chroma, so when the index changed since the last look, one write of nothing (a delete
        of an id no item has, ~30 ms) first brings Chroma up to date. That write waits for a write another
        process is making, with the GIL held (during an ingest p90 0.24 s: benchmarks/catch_up_bench.py).
        A Chroma server reads writes at once."""
        if not self._embedded or (version := self._keywords.version()) == self._chroma_version:
            return
        with self._catching_up:
            if version != self._chroma_version:
                self._collection.delete(ids=[_NO_ITEM])
                self._chroma_version = version

    def _admitted(
        self,
        scores: dict[str, float],
        nearest: dict[str, float],
        allowed: list[str],
        kind: str | None,
        where: dict[str, Any],
    ) -> dict[str, float]:
        """Those of the keyword finds a search's whole scope admits; the nearest items were found within it already."""
        missing = [id_ for id_ in scores if id_ not in nearest]
        if not missing:
            return scores
        got = set(self._collection.get(ids=missing, where=_scope(allowed, kind, where), include=[])["ids"])
        return {id_: score for id_, score in scores.items() if id_ in nearest or id_ in got}

    def _ranked(
        self,
        ks: dict[Any, int],
        nearest: dict[ItemKind | None, dict[str, float]],
        keyword: dict[Any, dict[str, float]],
        query: _Query,
        allowed: list[str],
        asked: rerank.Asked,
        neighbours: bool,
    ) -> dict[ItemKind | None, list[Hit]]:
        """Each kind's best `k` of the candidates the search found, by `rerank.ranked`, shown only in
        scope. Each is one Chroma holds: the vector finds are its neighbours, and the others are read
        from it, for the vectors their similarity needs (every candidate's, when the question has a
        topic of its own), unless they are held in memory. A chat message's turns before and after it
        are read too (`neighbours`), unless a caller's `where` limits the search: the keyword index
        cannot tell whether it admits them."""
        finds = {kind: _Finds(nearest[kind], keyword[kind], query.topic_nearest[kind]) for kind in ks}
        unscored = {
            id_
            for kind in ks
            for id_ in finds[kind].ids()
            if query.topic is not None or id_ not in nearest[kind]
        }
        rows = self._read({id_ for kind in ks for id_ in finds[kind].ids()}, self._unheld(unscored))
        hits: dict[ItemKind | None, list[Hit]] = {}
        for kind, k in ks.items():
            pool = self._candidates(finds[kind].ids(), rows, finds[kind], kind, query, allowed)

            def read(
                ids: Collection[str], finds: _Finds = finds[kind], kind: ItemKind | None = kind
            ) -> dict[str, rerank.Candidate]:
                return self._candidates(ids, self._read(ids, self._unheld(ids)), finds, kind, query, allowed)

            ranked = rerank.ranked(pool, read if neighbours else lambda ids: {}, asked, k)
            hits[kind] = [
                Hit(id=id_, text=c.text, score=score, similarity=c.similarity, metadata=dict(c.meta))
                for id_, c, score in ranked
            ]
        return hits

    def _candidates(
        self,
        ids: Collection[str],
        rows: Mapping[str, tuple[str, dict[str, Any], Any]],
        finds: _Finds,
        kind: ItemKind | None,
        query: _Query,
        allowed: list[str],
    ) -> dict[str, rerank.Candidate]:
        """The candidates of these ids that were read and are in the search's scope."""
        found = {}
        for id_ in ids:
            if id_ not in rows or not _in_scope(rows[id_][1], allowed, kind):
                continue
            text, meta, stored = rows[id_]
            similarity, topic = finds.nearest.get(id_), finds.topic.get(id_)
            if similarity is None or (query.topic is not None and topic is None):
                held = self._held.vectors([id_]) if self._held is not None else {}
                vector = held.get(id_, stored)
                similarity = float(np.dot(query.vector, vector)) if similarity is None else similarity
                if query.topic is not None and topic is None:
                    topic = float(np.dot(query.topic, vector))
            found[id_] = finds.candidate(id_, text, meta, similarity, topic)
        return found

    def _unheld(self, ids: Collection[str]) -> Collection[str]:
        """Those of `ids` whose vectors are not held in memory: a read from Chroma brings them."""
        held = self._held.vectors(ids) if self._held is not None else {}
        return [id_ for id_ in ids if id_ not in held]

    def _read(
        self, ids: Collection[str], with_vectors: Collection[str] = ()
    ) -> dict[str, tuple[str, dict[str, Any], Any]]:
        """(text, metadata, vector or None) of the items, from the keyword index where it can be: a
        Chroma call costs ~1 ms whatever it reads. An id is a hash of its item's kind, audience and
        text, so an index row that does not hash to its id is not believed, and Chroma's own copy is
        read instead, as it is for the items whose vectors are wanted (and for a row whose metadata
        does not parse). An id embedded Chroma cannot read (another process's add it has not caught up
        with: `_caught_up`) fails the whole read: then none of these is read from Chroma."""
        indexed = self._keywords.items([id_ for id_ in ids if id_ not in with_vectors])
        rows = {
            id_: (text, meta | {"audience": audience, "kind": kind}, None)
            for id_, (audience, kind, text, raw) in indexed.items()
            if (meta := _json_object(raw)) is not None
            and _item_id(kind, audience, text, str(meta.get("context", ""))) == id_
        }
        if unread := [id_ for id_ in ids if id_ not in rows]:
            try:
                got = self._collection.get(ids=unread, include=["documents", "metadatas", "embeddings"])
            except ChromaError:
                return rows
            rows |= dict(zip(got["ids"], zip(got["documents"], got["metadatas"], got["embeddings"])))
        return rows

    def texts_holding(
        self, phrases: Collection[str], audiences: Collection[Audience], limit: int = 20
    ) -> list[str]:
        """Texts of items in scope that hold any of these exact phrases (figures, codes), up to `limit`
        for each, found by the keyword index alone: no embedding, and not only the nearest items."""
        allowed = sorted({Audience(a).value for a in audiences})
        ids = self._keywords.holding(phrases, allowed, limit)
        return [text for text, meta, _ in self._read(ids).values() if _in_scope(meta, allowed, None)]

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


@dataclass(frozen=True)
class _Query:
    """A search's question as vectors: itself, and its topic (the question without the people it
    names; None when it names none) with the topic's nearest items of each kind."""

    vector: np.ndarray
    topic: np.ndarray | None
    topic_nearest: dict[Any, dict[str, float]]


class _Finds:
    """What a search found for one kind: similarity of the nearest items (to the question and to its
    topic), and BM25 scores of the keyword finds, each best first."""

    def __init__(self, nearest: dict[str, float], keyword: dict[str, float], topic: dict[str, float]) -> None:
        self.nearest = nearest
        self.topic = topic
        self._vector_rank = {
            id_: rank for rank, id_ in enumerate(sorted(nearest, key=nearest.__getitem__, reverse=True))
        }
        self._keyword = keyword
        self._keyword_rank = {id_: rank for rank, id_ in enumerate(keyword)}
        self._best = max(keyword.values(), default=0.0) or 1.0

    def ids(self) -> set[str]:
        return self._vector_rank.keys() | self._keyword_rank.keys() | self.topic.keys()

    def candidate(
        self, id_: str, text: str, meta: dict[str, Any], similarity: float, topic: float | None
    ) -> rerank.Candidate:
        return rerank.Candidate(
            text,
            meta,
            similarity,
            self._vector_rank.get(id_),
            self._keyword_rank.get(id_),
            self._keyword.get(id_, 0.0) / self._best,
            topic,
        )


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
    path = home.chroma_dir
    path.mkdir(parents=True, exist_ok=True)
    return chromadb.PersistentClient(path=str(path), settings=chroma_settings)


def _search_key(
    query: str, audiences: Collection[Audience], ks: Mapping[ItemKind, int]
) -> tuple[object, ...]:
    return query, frozenset(Audience(a) for a in audiences), tuple(sorted(ks.items()))


def _scope(allowed: list[str], kind: str | None, where: dict[str, Any] | None) -> dict[str, Any]:
    """A search's scope as a Chroma `where`: the audiences, the kind, and the caller's own clause."""
    clauses: list[dict[str, Any]] = [{"audience": {"$in": allowed}}]
    if kind:
        clauses.append({"kind": kind})
    if where:
        clauses.append(where)
    return clauses[0] if len(clauses) == 1 else {"$and": clauses}


def _in_scope(meta: Any, allowed: list[str], kind: str | None) -> bool:
    """The audience and kind half of a search's scope, checked on an item Chroma returned unfiltered."""
    return meta["audience"] in allowed and kind in (None, meta["kind"])


def _item_id(kind: str, audience: str, text: str, context: str = "") -> str:
    content = f"{kind}\0{audience}\0{text}" + (f"\0{context}" if context else "")
    return hashlib.sha256(content.encode()).hexdigest()[:32]


def _with_context(own: list[float], context: list[float] | None) -> list[float]:
    """The item's vector: its own text's, drawn towards its context's. A question about what a reply
    means finds it, while a question about the neighbour still prefers the neighbour's own item."""
    if context is None:
        return own
    mixed = np.asarray(own) + _CONTEXT_WEIGHT * np.asarray(context)
    return (mixed / np.linalg.norm(mixed)).tolist()


def _json_object(raw: str | None) -> dict[str, Any] | None:
    try:
        value = json.loads(raw or "")
    except ValueError:
        return None
    return value if isinstance(value, dict) else None


def _keyword_row(id_: str, text: str, meta: Any) -> tuple[str, str, str, str, str, str, str]:
    people = meta.get("people") or ", ".join(str(meta.get(key, "")) for key in ("author", "recipients"))
    return id_, meta["audience"], meta["kind"], str(meta.get("subject", "")), people, text, json.dumps(meta)


def _metadata(item: MemoryItem) -> dict[str, str | int | float | bool]:
    return {
        **item.metadata,
        "kind": item.kind,
        "audience": item.audience.value,
        "content_hash": hashlib.sha256(item.text.encode()).hexdigest(),
    }


# --- keyword scoring -------------------------------------------------------------------------------

_WORD = re.compile(r"[a-z0-9][a-z0-9\-]*")  # "lena's" is "lena": the index splits at apostrophes too
_STOP = frozenset(
    "a an and are as at be but by can could did do does for from had has have how i if in is it its me my "
    "no not of on or our she he so that the their them then there these they this to was we were what "
    "when where which who why will with would you your about any all also been into just more some than "
    "tell know".split()
)


def _without(query: str, names: Collection[str]) -> str:
    """The query without these names (and their "'s"): "What did Dana's team decide?" → "What did team decide?"."""
    for name in names:
        query = re.sub(rf"\b{re.escape(name)}(?:['’]s)?\b", " ", query, flags=re.IGNORECASE)
    return " ".join(query.split())


def _terms(query: str) -> list[str]:
    """Distinct content words of a query; the keyword index's BM25 weighs them by rarity."""
    return sorted({w for w in _WORD.findall(query.lower()) if w not in _STOP and len(w) > 2})
