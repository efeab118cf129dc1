"""Rate limits on the `limits` library: sliding-window counters in memory, two per key and window.

A key's counters expire with their window, so the storage stays as small as the set of keys active
lately (its moving-window storage keeps an empty list for every key ever seen). A limit is written
as `limits` reads it, several windows joined by ";": "10/minute;30/hour" refuses the 11th request
in a minute and the 31st in an hour, so a client that keeps going waits longer each time.
"""

from __future__ import annotations

import math

from limits import RateLimitItem, parse_many
from limits.storage import MemoryStorage
from limits.strategies import SlidingWindowCounterRateLimiter

from persona.server.errors import RateLimited


class Limit:
    def __init__(self, spec: str, storage: MemoryStorage, what: str = "requests"):
        self.items = parse_many(spec)
        self.what = what
        # `what` namespaces the keys: limits of different `what` on one storage never share counters
        self._windows = SlidingWindowCounterRateLimiter(storage)
        self._storage = storage

    def hit(self, key: str) -> None:
        """Count one request of `key`, or raise RateLimited saying when to retry (and count nothing)."""
        self.check(key)
        self.count(key)

    def check(self, key: str) -> None:
        """Raise RateLimited when `key` has used up a window, without counting."""
        if refused := [item for item in self.items if not self._windows.test(item, self.what, key)]:
            wait = max(1, math.ceil(max(self._wait(item, key) for item in refused)))
            raise RateLimited(f"too many {self.what}; try again in {wait} s", retry_after=wait)

    def count(self, key: str) -> None:
        """Count one of `key`'s events whatever the windows say (a failure already happened)."""
        for item in self.items:
            self._windows.hit(item, self.what, key)

    def _wait(self, item: RateLimitItem, key: str) -> float:
        """Seconds until `item` lets one more through. The library's own reset time is when the current
        window ends, but the count then weighs on as the previous window's, shrinking as it passes:
        with A allowed a window of E seconds, P counted in the previous window, C in this one and r
        seconds of it left, the weighted count P·(r−t)/E + C drops below A at t = r − (A−C)·E/P, or, if
        this window alone holds A or more, at t = r + E·(1 − A/C) after it ends."""
        amount, expiry = item.amount, item.get_expiry()
        previous, _, current, current_ttl = self._storage.get_sliding_window(
            item.key_for(self.what, key), expiry
        )
        left = current_ttl - expiry  # the library keeps a window's count for two windows
        if current < amount:
            wait = left - (amount - current) * expiry / previous if previous else 0.0
            if wait < left:
                return wait + 0.01  # strictly below
        return left + expiry * (1 - amount / current) + 0.01
