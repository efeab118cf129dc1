"""The local server's prompt cache: bounded by count, one state per prompt family, no logits kept."""

from __future__ import annotations

import numpy as np
import pytest
from llama_cpp import LlamaState

from persona.llm.prefix_cache import PrefixCache

VOCAB = 50


def state(tokens: list[int]) -> LlamaState:
    return LlamaState(
        input_ids=np.array(tokens, dtype=np.intc),
        scores=np.ones((len(tokens), VOCAB), np.single),
        n_tokens=len(tokens),
        llama_state=b"kv" * len(tokens),
        llama_state_size=2 * len(tokens),
        seed=0,
    )


def persona(n: int, tail: list[int]) -> list[int]:
    return [n] * 10 + tail


def test_the_longest_shared_prefix_is_found_and_logits_are_not_kept() -> None:
    cache = PrefixCache(capacity=4)
    cache[persona(1, [7])] = state(persona(1, [7]))
    cache[persona(2, [7])] = state(persona(2, [7]))

    found = cache[persona(2, [8, 9])]

    assert found.input_ids.tolist() == persona(2, [7])
    assert found.scores.shape == (1, VOCAB) and not found.scores.any()
    assert cache.cache_size == 2 * 2 * 11
    with pytest.raises(KeyError):
        _ = cache[[99, 98]]


def test_a_new_turn_on_a_prefix_replaces_the_older_one_so_alternating_prefixes_stay() -> None:
    cache = PrefixCache(capacity=3)
    for turn in range(12):  # three personas in turn, each turn a new question
        key = persona(turn % 3, [100 + turn])
        cache[key] = state(key)

    assert len(cache.states) == 3
    assert sorted(k[0] for k in cache.states) == [0, 1, 2]


def test_the_least_recently_used_family_goes_first_past_the_capacity() -> None:
    cache = PrefixCache(capacity=2)
    for n in (1, 2):
        cache[persona(n, [0])] = state(persona(n, [0]))
    _ = cache[persona(1, [5])]  # 1 used again: 2 is now the oldest
    cache[persona(3, [0])] = state(persona(3, [0]))

    assert sorted(k[0] for k in cache.states) == [1, 3]
