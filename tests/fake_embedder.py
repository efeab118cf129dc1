"""The embedder of unit tests: words hashed into a fixed-size vector, in place of the sentence model.

It has what the memory asks of `persona.memory.embedding.Embedder` (name, dim, count_tokens, embed,
embed_query), is deterministic and costs no model load. Texts that share words are near, texts that share
none nearly orthogonal: enough for tests of what the twin does with what memory finds. Tests of how well
the real model ranks (retrieval quality, the ONNX encoder) use the real one, and so do tests of Chroma's
approximate index over many near-identical notes, which it searches reliably only on real vectors.
"""

from __future__ import annotations

import functools
import hashlib
import re

import numpy as np

WORD = re.compile(r"\w+")
DIM = 384


@functools.lru_cache(maxsize=65536)
def _features(word: str) -> tuple[np.ndarray, np.ndarray]:
    """Where a word adds to the vector: the word, and more faintly its letter trigrams, so that "cutover" is
    near "cutovers"; each with a sign from its hash, so collisions cancel rather than add up."""
    features = [(word, 1.0)] + [(f"#{word[i : i + 3]}", 0.3) for i in range(max(len(word) - 2, 0))]
    hashes = [
        int.from_bytes(hashlib.blake2b(f.encode(), digest_size=8).digest(), "little") for f, _ in features
    ]
    buckets = np.array([h % DIM for h in hashes])
    weights = np.array([w if h >> 63 else -w for h, (_, w) in zip(hashes, features, strict=True)])
    return buckets, weights


class HashedWordsEmbedder:
    name = "hashed-words"  # the memory records it: a home embedded with it is never read with the real model

    def __init__(self) -> None:
        self.dim = DIM
        self.embedded = 0  # texts embedded by `embed` so far, for tests of what is (not) embedded again

    def count_tokens(self, text: str) -> int:
        return len(WORD.findall(text))

    def embed(self, texts: list[str]) -> list[list[float]]:
        self.embedded += len(texts)
        return [self.embed_query(text) for text in texts]

    def embed_query(self, text: str) -> list[float]:
        vector = np.zeros(self.dim)
        if words := WORD.findall(text.lower()):
            buckets, weights = zip(*map(_features, words), strict=True)
            vector = np.bincount(np.concatenate(buckets), np.concatenate(weights), minlength=self.dim)
        norm = float(np.linalg.norm(vector))
        if norm == 0.0:  # no words: a fixed unit vector, as cosine distance needs a length
            vector[0], norm = 1.0, 1.0
        return (vector / norm).tolist()
