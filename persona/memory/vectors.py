"""Every memory item's vector in one matrix, for nearest-neighbour search in a long-running process.

A query of Chroma's local index costs ~1.5 ms whatever it asks for (its Rust side hands each call to
worker threads and reads SQLite), and 3-5 ms of CPU a chat turn under a server's load. One matrix
product over the unit vectors of a thousand items takes ~0.03 ms, and is exact. Chroma stays the
store: the matrix is read from it, and follows the keyword index, which MemoryStore writes after Chroma
on every add and delete, in this process or another. When that index changed since the last look, the
next search first reads the ids it holds, fetches the vectors of new ones from Chroma and drops the
rest. Embedded Chroma reads another process's adds only after this process next writes: a search first
brings it up to date when the index changed (`MemoryStore._caught_up`), and an add it still cannot read
is left out, as it is from Chroma's own answers. Exact search grows with the memory (0.03 ms at 1k
items, 0.2 ms at 10k, 1.2 ms at 20k, on both cores; ~40 ms at 1M), so above the `exact` limit the rows
are kept sorted by group (persona.memory.groups) and a search reads only the nearest groups. Above
`limit` items the matrix is let go, and searches ask Chroma's HNSW index. Every audience and kind is
filtered here exactly, where Chroma's filtered query first lists every item its filter admits.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
from chromadb.errors import ChromaError

from persona.memory.groups import Groups
from persona.memory.keywords import KeywordIndex

_FETCH_BATCH = 5000


@dataclass(frozen=True)
class _Matrix:
    ids: list[str]
    rows: dict[str, int]  # id -> its row
    vectors: np.ndarray  # (items, dim), float32, unit length
    scopes: np.ndarray  # (items,) int: the row's (audience, kind) as an index into `names`
    names: list[tuple[str, str]]  # every (audience, kind) the memory holds
    groups: Groups | None  # above the exact limit: the rows sorted by group, searched a few groups at a time

    def admitted(self, allowed: Collection[str], kind: Any) -> np.ndarray:
        """Whether a search among these audiences, for this kind (None: any), may show each scope."""
        return np.array([audience in allowed and kind in (None, k) for audience, k in self.names], dtype=bool)


_EMPTY = _Matrix([], {}, np.empty((0, 0), dtype=np.float32), np.empty(0, dtype=np.int64), [], None)


class VectorMatrix:
    def __init__(self, keywords: KeywordIndex, collection: Any, limit: int, exact: int) -> None:
        self._keywords = keywords
        self._collection = collection
        self._limit = limit
        self._exact = exact
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

    @property
    def grouped(self) -> bool:
        """Whether the vectors held are searched a few groups at a time (above the exact limit)."""
        return self._matrix is not None and self._matrix.groups is not None

    def nearest(
        self, vector: list[float], pools: Mapping[Any, int], allowed: Collection[str]
    ) -> dict[Any, dict[str, float]] | None:
        """For each kind (None: any kind), its `pools[kind]` nearest items among the allowed audiences,
        nearest first, with their similarity; None while the memory is too large to hold. Exact up to
        the exact limit; above it, among the nearest groups (persona.memory.groups)."""
        self.refresh()
        matrix = self._matrix
        if matrix is None:
            return None
        if not matrix.ids:
            return {kind: {} for kind in pools}
        query = np.asarray(vector, dtype=np.float32)
        admitted = {kind: matrix.admitted(allowed, kind) for kind in pools}
        if matrix.groups is None:
            # einsum runs on this thread: BLAS (`@`) splits one matrix-vector product over every core,
            # and on a busy machine waiting for the other thread cost 5-15 ms a search where the
            # product itself takes 0.2 ms of CPU (3,000 items, 2 shared cores at load ~4)
            rows, similarities = np.arange(len(matrix.ids)), np.einsum("ij,j->i", matrix.vectors, query)
        else:
            rows, similarities = matrix.groups.probe(
                query, matrix.vectors, list(admitted.values()), list(pools.values())
            )
        scopes = matrix.scopes[rows]
        found: dict[Any, dict[str, float]] = {}
        for kind, pool in pools.items():
            picked = np.flatnonzero(admitted[kind][scopes])
            if len(picked) > pool:
                picked = picked[np.argpartition(-similarities[picked], pool - 1)[:pool]]
            picked = picked[np.argsort(-similarities[picked], kind="stable")]
            found[kind] = {matrix.ids[rows[i]]: float(similarities[i]) for i in picked}
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
        return dict(zip(got["ids"], np.asarray(got["embeddings"], dtype=np.float32)))  # Chroma's are float64

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
            return _EMPTY, whole
        kept_rows = np.array([known[id_] for id_, _, _ in kept], dtype=np.int64)
        added_vectors = np.asarray([fetched[id_] for id_, _, _ in added], dtype=np.float32)
        del fetched
        parts = [old.vectors[kept_rows]] if old is not None and kept else []
        if added:
            parts.append(added_vectors)
        else:
            added_vectors = np.empty((0, parts[0].shape[1]), dtype=np.float32)
        ids, audiences, kinds = (list(column) for column in zip(*kept, *added))
        names = sorted(set(zip(audiences, kinds)))
        code = {name: i for i, name in enumerate(names)}
        matrix = _Matrix(
            ids=ids,
            rows={},
            vectors=parts[0] if len(parts) == 1 else np.concatenate(parts),
            scopes=np.array([code[name] for name in zip(audiences, kinds)], dtype=np.int64),
            names=names,
            groups=None,
        )
        if len(ids) > self._exact:
            matrix = _grouped(matrix, old.groups if old is not None else None, kept_rows, added_vectors)
        matrix.rows.update((id_, row) for row, id_ in enumerate(matrix.ids))
        return matrix, whole


def _grouped(matrix: _Matrix, groups: Groups | None, kept: np.ndarray, added: np.ndarray) -> _Matrix:
    """The matrix (rows `kept` of the last one, then `added`) sorted by group: around the centroids it was
    grouped by before, unless there were none or the memory has grown fourfold since (a group holds ~√N)."""
    if groups is not None and len(matrix.ids) <= 4 * len(groups.centroids) ** 2:
        found, order = groups.regroup(kept, added, matrix.scopes, len(matrix.names))
    else:
        found, order = Groups.build(matrix.vectors, matrix.scopes, len(matrix.names))
    return _Matrix(
        ids=[matrix.ids[row] for row in order],
        rows={},
        vectors=matrix.vectors[order],
        scopes=matrix.scopes[order],
        names=matrix.names,
        groups=found,
    )
