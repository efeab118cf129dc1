"""Agent tests run on the shared test profile with a week of calendar (agent_helpers.CALENDAR), and embed
with hashed words (tests/fake_embedder.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from agent_helpers import CALENDAR

from persona.app import App
from persona.channels.calendar import import_ics
from persona.home import Home
from persona.settings import Settings


@pytest.fixture(autouse=True)
def _hashed_words(request: pytest.FixtureRequest) -> None:
    """The agent's tests are about what it chooses and does, not how the sentence model ranks memory; those
    with the real model (marked llm) keep the real embeddings too."""
    if request.node.get_closest_marker("llm") is None:
        request.getfixturevalue("fake_embeddings")


@pytest.fixture
def agent_home(home: Home, tmp_path: Path) -> Home:
    ics = tmp_path / "week.ics"
    ics.write_text(CALENDAR)
    app = App(home, Settings())
    import_ics(app.calendar, ics)
    return home
