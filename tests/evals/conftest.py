"""The real packaged embedding model, loaded once for the session."""

from __future__ import annotations

import pytest

from persona.memory.embedding import Embedder
from persona.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    return Embedder(Settings(embedding_model=None, chroma_url=None))
