"""The module-scoped twin servers tests in this folder share: `twin` in-process, `site` over uvicorn with a
headless Chromium (helpers live in server_helpers.py and browser_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from browser_helpers import chromium
from server_helpers import Served, issue_tokens, new_app, new_home, running_twin, uvicorn_on_loopback

from persona.server import create_app


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running_twin(new_home(tmp_path_factory.mktemp("server") / "home")) as running:
        yield running


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory):
    """(base URL, App, scripted model, tokens, browser) for one module's browser tests."""
    app, model = new_app(new_home(tmp_path_factory.mktemp("browser") / "home"))
    api = create_app(app)
    tokens = issue_tokens(api)
    with chromium() as browser, uvicorn_on_loopback(api) as base:
        yield base, app, model, tokens, browser
