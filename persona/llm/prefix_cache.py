"""The local server's prompt cache: the KV state of a few recent prompts, bounded by count, not by luck."""

from __future__ import annotations

from collections import OrderedDict
from collections.abc import Sequence

import numpy as np
from llama_cpp import Llama, LlamaState
from llama_cpp.llama_cache import BaseLlamaCache

Key = tuple[int, ...]


class PrefixCache(BaseLlamaCache):
    """At most `capacity` saved states, least recently used out first, one per prompt family.

    llama-cpp-python's own RAM cache caps only the KV bytes it counts, while every saved state also
    copies the logits buffer (n_batch × vocabulary floats, ~300 MB for Qwen2.5) and every completion
    adds a state, so the process grew to many GB. Here a state keeps its KV bytes only: the server
    runs with logits_all off, where those rows are never read (a restored state is decoded again
    before sampling). A new state replaces the ones it shares most of their tokens with (an older
    turn on the same persona prefix), so alternating prefixes do not push each other out.
    """

    def __init__(self, capacity: int) -> None:
        super().__init__(capacity_bytes=0)
        self.capacity = capacity
        self.states: OrderedDict[Key, LlamaState] = OrderedDict()

    @property
    def cache_size(self) -> int:
        return sum(state.llama_state_size for state in self.states.values())

    def __contains__(self, key: Sequence[int]) -> bool:
        return self._longest(tuple(key)) is not None

    def __getitem__(self, key: Sequence[int]) -> LlamaState:
        found = self._longest(tuple(key))
        if found is None:
            raise KeyError("no cached prefix")
        self.states.move_to_end(found)
        return self.states[found]

    def __setitem__(self, key: Sequence[int], state: LlamaState) -> None:
        key = tuple(key)
        for old in [k for k in self.states if 2 * Llama.longest_token_prefix(k, key) >= len(k)]:
            del self.states[old]
        # One row broadcasts when load_state writes it back into the model's scores.
        state.scores = np.zeros((1, state.scores.shape[1]), dtype=state.scores.dtype)
        self.states[key] = state
        while len(self.states) > self.capacity:
            self.states.popitem(last=False)

    def _longest(self, key: Key) -> Key | None:
        best, best_len = None, 0
        for k in self.states:
            shared = Llama.longest_token_prefix(k, key)
            if shared > best_len:
                best, best_len = k, shared
        return best
