"""For tests that need a real server: the one rule when it is missing (skip on a user's machine, fail on
CI), and a free loopback port to start one on."""

from __future__ import annotations

import os
import socket

import pytest

ON_CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}


def need(condition: bool, reason: str) -> None:
    """Skip when `condition` is false, with the reason; on CI (CI=true) the same gap is a failure."""
    if not condition:
        if ON_CI:
            pytest.fail(f"CI must provide this: {reason}")
        pytest.skip(reason)


def free_port() -> int:
    """A loopback port nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]
