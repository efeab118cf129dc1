"""Per-principal token buckets: a burst is allowed, the long-run rate is capped."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from persona.server.errors import RateLimited


@dataclass
class _Bucket:
    tokens: float
    stamp: float


class RateLimiter:
    def __init__(self, per_minute: float, burst: int, clock: Callable[[], float] = time.monotonic):
        self.rate = per_minute / 60.0
        self.burst = burst
        self.clock = clock
        self._buckets: dict[str, _Bucket] = {}

    def hit(self, key: str) -> None:
        """Take one token from `key`'s bucket or raise RateLimited saying when to retry."""
        now = self.clock()
        bucket = self._buckets.setdefault(key, _Bucket(tokens=self.burst, stamp=now))
        bucket.tokens = min(self.burst, bucket.tokens + (now - bucket.stamp) * self.rate)
        bucket.stamp = now
        if bucket.tokens < 1:
            wait = (1 - bucket.tokens) / self.rate
            raise RateLimited(f"too many requests; try again in {wait:.0f} s", retry_after=wait)
        bucket.tokens -= 1
