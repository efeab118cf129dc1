"""The one rule for tests that need a real server: skip on a user's machine, fail on CI."""

from __future__ import annotations

import os

import pytest

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip when `condition` is false, with the reason; on CI (CI=true) the same gap is a failure."""
    if not condition:
        if ON_CI:
            pytest.fail(f"CI must provide this: {reason}")
        pytest.skip(reason)
