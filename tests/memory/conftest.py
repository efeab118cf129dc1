from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from persona.home import Home
from persona.memory.embedding import Embedder
from persona.memory.store import MemoryStore
from persona.profile import Owner, Profile
from persona.settings import Settings


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The real packaged model, loaded once for the whole session (loading takes seconds)."""
    return Embedder(Settings(embedding_model=None, chroma_url=None))


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def store(home: Home, embedder: Embedder) -> Iterator[MemoryStore]:
    yield MemoryStore(home, Settings(embedding_model=None, chroma_url=None), embedder)


@pytest.fixture
def owner() -> Profile:
    return Profile(owner=Owner(name="Dana Reyes", emails=["dana@example.com", "dana.reyes@home.example"]))
