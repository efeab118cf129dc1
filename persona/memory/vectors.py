"""Every memory item's vector in one matrix, for exact nearest-neighbour search in a long-running process.

A query of Chroma's local index costs ~1.5 ms whatever it asks for (its Rust side hands each call to
worker threads and reads SQLite), and 3-5 ms of CPU a chat turn under a server's load. One matrix
product over the unit vectors of a thousand items takes ~0.03 ms, and is exact. Chroma stays the
store: the matrix is read from it, and follows the keyword index, which MemoryStore writes after Chroma
on every add and delete, in this process or another. When that index changed since the last look, the
next search first reads the ids it holds, fetches the vectors of new ones from Chroma and drops the
rest. Embedded Chroma reads another process's adds only after this process next writes: a search first
brings it up to date when the index changed (`MemoryStore._caught_up`), and an add it still cannot read
is left out, as it is from Chroma's own answers. Above `limit`
items the matrix is let go, and searches ask Chroma's HNSW index: exact search grows with the memory
(0.03 ms at 1k items, 0.2 ms at 10k, 1.2 ms at 20k, on both cores), and so does the time to read it
in (0.4 s at 10k).
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from chromadb.errors import ChromaError

from persona.memory.keywords import KeywordIndex

_FETCH_BATCH = 5000


@dataclass(frozen=True)
class _Matrix:
    ids: list[str]
    rows: dict[str, int]  # id -> its row
    vectors: np.ndarray  # (items, dim), float32, unit length
    audiences: np.ndarray  # (items,) str
    kinds: np.ndarray  # (items,) str


class VectorMatrix:
    def __init__(self, keywords: KeywordIndex, collection: Any, limit: int) -> None:
        self._keywords = keywords
        self._collection = collection
        self._limit = limit
        self._matrix: _Matrix | None = None
        self._version: int | None = None
        self._unreadable: set[str] = set()  # ids Chroma could not read when asked for alone
        self._lock = threading.Lock()

    def refresh(self) -> None:
        """Follow the adds and deletes made since the last look, if any."""
        with self._lock:
            version = self._keywords.version()
            if version != self._version:
                # read after the version: a change in between is read now and again next time, never missed
                self._matrix, whole = self._synced(self._matrix)
                # an item the index holds and Chroma could not read yet is looked for again next time
                self._version = version if whole else None

    @property
    def holding(self) -> bool:
        """Whether the vectors are held: the memory was within the limit at the last look."""
        return self._matrix is not None

    def nearest(
        self, vector: list[float], pools: Mapping[Any, int], allowed: Collection[str]
    ) -> dict[Any, dict[str, float]] | None:
        """For each kind (None: any kind), its `pools[kind]` nearest items among the allowed audiences,
        nearest first, with their similarity; None while the memory is too large to hold."""
        self.refresh()
        matrix = self._matrix
        if matrix is None:
            return None
        if not matrix.ids:
            return {kind: {} for kind in pools}
        similarities = matrix.vectors @ np.asarray(vector, dtype=np.float32)
        in_audience = np.isin(matrix.audiences, list(allowed))
        found: dict[Any, dict[str, float]] = {}
        for kind, pool in pools.items():
            rows = np.flatnonzero(in_audience if kind is None else in_audience & (matrix.kinds == kind))
            if len(rows) > pool:
                rows = rows[np.argpartition(-similarities[rows], pool - 1)[:pool]]
            rows = rows[np.argsort(-similarities[rows], kind="stable")]
            found[kind] = {matrix.ids[row]: float(similarities[row]) for row in rows}
        return found

    def vectors(self, ids: Collection[str]) -> dict[str, np.ndarray]:
        """The vectors held of these ids."""
        matrix = self._matrix
        if matrix is None:
            return {}
        return {id_: matrix.vectors[matrix.rows[id_]] for id_ in ids if id_ in matrix.rows}

    def _fetched(self, ids: list[str]) -> dict[str, Any]:
        """The vectors of these ids that Chroma can read. One it cannot read fails the whole call: then
        each id not asked for alone before is, once; the rest wait for a call that reads them all."""
        try:
            got = self._collection.get(ids=ids, include=["embeddings"])
        except ChromaError:
            if len(ids) > 1:
                return {
                    id_: vector
                    for one in ids
                    if one not in self._unreadable
                    for id_, vector in self._fetched([one]).items()
                }
            self._unreadable.update(ids)
            return {}
        return dict(zip(got["ids"], got["embeddings"]))

    def _synced(self, old: _Matrix | None) -> tuple[_Matrix | None, bool]:
        """The matrix as the index now is, and whether it holds every item the index does."""
        if self._keywords.count() > self._limit:
            return None, True
        scopes = self._keywords.every_scope()
        known = old.rows if old is not None else {}
        new = [id_ for id_, _, _ in scopes if id_ not in known]
        fetched: dict[str, Any] = {}
        for start in range(0, len(new), _FETCH_BATCH):
            fetched |= self._fetched(new[start : start + _FETCH_BATCH])
        self._unreadable -= fetched.keys()
        # an id the index holds that Chroma did not return (a delete half done, or another process's add
        # it cannot read yet) is left out
        kept = [row for row in scopes if row[0] in known]
        added = [row for row in scopes if row[0] not in known and row[0] in fetched]
        whole = len(kept) + len(added) == len(scopes)
        if not kept and not added:
            return _Matrix([], {}, np.empty((0, 0), dtype=np.float32), np.array([]), np.array([])), whole
        parts = []
        if kept:
            assert old is not None
            parts.append(old.vectors[[known[id_] for id_, _, _ in kept]])
        if added:
            parts.append(np.asarray([fetched[id_] for id_, _, _ in added], dtype=np.float32))
        ids, audiences, kinds = (list(column) for column in zip(*kept, *added))
        return _Matrix(
            ids=ids,
            rows={id_: row for row, id_ in enumerate(ids)},
            vectors=np.concatenate(parts),
            audiences=np.array(audiences),
            kinds=np.array(kinds),
        ), whole
