"""The module-scoped twin server most tests in this folder share (helpers live in server_helpers.py)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from server_helpers import Served, new_home, running_twin


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Served]:
    with running_twin(new_home(tmp_path_factory.mktemp("server") / "home")) as running:
        yield running
