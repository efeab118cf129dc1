"""Vectors grouped by nearest centroid (persona.memory.groups): the neighbours exact search finds, from a
few groups, and never too few of a rare scope."""

from __future__ import annotations

import numpy as np

from persona.memory.groups import Groups

DIM = 32


def _clustered(n: int, seed: int) -> np.ndarray:
    rng = np.random.default_rng(seed)
    centres = rng.normal(size=(50, DIM))
    vectors = centres[rng.integers(0, 50, n)] + rng.normal(0, 0.5, (n, DIM))
    return (vectors / np.linalg.norm(vectors, axis=1, keepdims=True)).astype(np.float32)


def _sorted(vectors: np.ndarray, scopes: np.ndarray) -> tuple[Groups, np.ndarray, np.ndarray]:
    groups, order = Groups.build(vectors, scopes, int(scopes.max()) + 1)
    return groups, vectors[order], scopes[order]


def test_the_nearest_groups_hold_the_nearest_vectors() -> None:
    vectors = _clustered(20_000, seed=1)
    groups, held, _ = _sorted(vectors, np.zeros(len(vectors), dtype=np.int64))
    assert len(groups.centroids) == 141 and groups.bounds[-1] == len(vectors)
    found = 0
    for query in _clustered(50, seed=2):
        rows, similarities = groups.probe(query, held, [np.array([True])], [50])
        assert len(rows) < len(held) / 4  # a few groups read, not the whole matrix
        best = set(rows[np.argsort(-similarities)[:50]])
        found += len(best & set(np.argsort(-(held @ query))[:50]))
    assert found / (50 * 50) >= 0.95


def test_a_rare_scope_is_read_until_there_are_enough_of_it() -> None:
    vectors = _clustered(20_000, seed=3)
    scopes = (np.arange(len(vectors)) % 100 == 0).astype(np.int64)  # 200 items of scope 1
    groups, held, held_scopes = _sorted(vectors, scopes)
    for query in _clustered(10, seed=4):
        rows, _ = groups.probe(query, held, [np.array([False, True])], [40])
        assert (held_scopes[rows] == 1).sum() >= 4 * 40  # _DEPTH times as many as wanted
        everything, _ = groups.probe(query, held, [np.array([False, True])], [1000])
        assert len(everything) == len(held)  # more than there are: every group is read


def test_regrouping_keeps_each_row_in_its_group_and_adds_the_new_to_their_nearest() -> None:
    vectors = _clustered(5000, seed=5)
    groups, held, _ = _sorted(vectors, np.zeros(len(vectors), dtype=np.int64))
    kept = np.arange(0, len(held), 2)  # every other row stays
    added = _clustered(100, seed=6)
    again, order = groups.regroup(kept, added, np.zeros(len(kept) + 100, dtype=np.int64), 1)
    assert again.centroids is groups.centroids and again.bounds[-1] == len(kept) + 100
    before = groups.label(kept)
    after = again.label(np.argsort(order)[: len(kept)])  # where each kept row went
    assert (before == after).all()
    assert (
        again.label(np.argsort(order)[len(kept) :]) == np.argmax(added @ groups.centroids.T, axis=1)
    ).all()
