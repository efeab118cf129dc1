"""Fixtures of the scheduler tests."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from scheduler_helpers import Clock

from persona.memory.embedding import Embedder
from persona.settings import Settings


@pytest.fixture
def clock() -> Clock:
    return Clock(datetime(2026, 11, 30, 5, 0, tzinfo=UTC))


@pytest.fixture(scope="session")
def embedder() -> Embedder:
    """The packaged embedding model, loaded once for the session (loading takes seconds)."""
    return Embedder(Settings(embedding_model=None, chroma_url=None))
