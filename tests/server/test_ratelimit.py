"""Rate limits: a Retry-After a client can trust, waits that grow with the longer windows, bounded storage."""

from __future__ import annotations

import random
import time

import pytest
from limits.storage import MemoryStorage
from server_helpers import limits_clock

from persona.server.errors import RateLimited
from persona.server.ratelimit import Limit
from persona.settings import Settings


@pytest.mark.parametrize("spec", ["2/minute", "10/minute;30/hour", "5/minute;20/hour;50/day"])
def test_retry_after_is_exactly_long_enough(monkeypatch, spec: str):
    clock = limits_clock(monkeypatch)
    clock.now += random.Random(spec).uniform(0, 60)  # anywhere in a minute
    limit, rng, waits = Limit(spec, MemoryStorage(), "tries"), random.Random(1), []
    for _ in range(120):
        try:
            limit.hit("client")
            clock.now += rng.uniform(0, 2)
        except RateLimited as refused:
            assert refused.retry_after >= 1 and f"try again in {refused.retry_after} s" in str(refused)
            waits.append(refused.retry_after)
            if refused.retry_after > 2:
                clock.now += refused.retry_after - 2
                with pytest.raises(RateLimited):  # not sooner
                    limit.check("client")
                clock.now += 2
            else:
                clock.now += refused.retry_after
            limit.check("client")  # a client that waits as told is let through
    assert max(waits) > 60 * min(waits) or spec == "2/minute"  # the longer windows make the waits grow


def test_the_owners_default_lets_a_script_run_1536_requests_at_once():
    limit = Limit(Settings().limits.owner_api_limit, MemoryStorage())
    for _ in range(1536):
        limit.hit("owner")


def test_keys_are_dropped_when_their_window_has_passed(monkeypatch):
    clock = limits_clock(monkeypatch)
    storage = MemoryStorage()
    limit = Limit("5/minute", storage)
    for n in range(1000):
        limit.hit(f"10.0.{n // 256}.{n % 256}")
    clock.now += 121  # a window's count is kept for two windows
    limit.hit("10.9.9.9")  # wakes the library's sweeper thread
    for _ in range(200):
        if len(storage.storage) <= 2:
            break
        time.sleep(0.01)  # the sweeper runs in its own thread: this waits for it, not for time to pass
    assert len(storage.storage) <= 2 and len(storage.expirations) <= 2
