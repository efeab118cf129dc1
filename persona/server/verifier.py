"""Token verification that costs an attacker more than it costs the owner.

argon2 (~130 ms of CPU, 64 MiB) runs only for a well-formed token that names a live id. Then:
- a wrong secret is remembered, by a keyed hash of the whole token, for FAILED_TTL: the same wrong
  token again is refused without argon2;
- wrong secrets are counted per client address and per token id (settings
  `signin_failures_per_address`, `signin_failures_per_token`); once a window is used up, the next
  try is a 429 with Retry-After before any argon2, and the longer windows make the waits grow;
- argon2 runs on its own pool of VERIFY_WORKERS threads, so a flood never holds the threads the
  owner's requests use (and at most lanes.WIDTH sign-ins are in its line: everyone not signed in
  queues there, while a signed-in browser or a remembered bearer token goes straight on);
- a right token is remembered the same way while it is used at least every VERIFIED_TTL, so a script
  with the owner's bearer token pays argon2 once, not per request. Revocation is still read each time.
Malformed, unknown and revoked tokens cost one indexed read, like any refused request, and are not
counted: only a wrong secret can cost argon2.
"""

from __future__ import annotations

import asyncio
import hashlib
import os
import secrets
import sys
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

from cachetools import TTLCache

from persona.server.ratelimit import Limit
from persona.server.tokens import TokenRecord, TokenStore, parse

VERIFY_WORKERS = 1  # one argon2 at a time: 64 MiB and one core at most, whatever arrives
ARGON2_NICENESS = 10  # on a busy machine the event loop, serving the owner, gets the CPU first
FAILED_TTL, FAILED_MAX = 900.0, 10_000  # wrong tokens remembered: 15 min, ~3 MB at most
VERIFIED_TTL, VERIFIED_MAX = 900.0, 1_000  # right tokens: 15 min since last use


class TokenVerifier:
    def __init__(
        self,
        tokens: TokenStore,
        by_address: Limit,
        by_token: Limit,
        clock: Callable[[], float] = time.monotonic,
    ):
        self.tokens = tokens
        self.by_address = by_address
        self.by_token = by_token
        self._key = secrets.token_bytes(
            32
        )  # per process: the caches never hold anything a token can be read from
        self._verified: TTLCache[bytes, str] = TTLCache(VERIFIED_MAX, VERIFIED_TTL, timer=clock)
        self._failed: TTLCache[bytes, bool] = TTLCache(FAILED_MAX, FAILED_TTL, timer=clock)
        self._pool = ThreadPoolExecutor(
            VERIFY_WORKERS, thread_name_prefix="argon2", initializer=_yield_the_cpu
        )

    def remembered(self, token: str) -> TokenRecord | None:
        """A token verified lately and still live: one indexed read, cheap enough for the event loop."""
        digest = self._digest(token)
        if (token_id := self._verified.get(digest)) is None:
            return None
        if (record := self.tokens.live(token_id)) is None:
            self._verified.pop(digest, None)
            return None
        self._verified[digest] = token_id  # used: kept another VERIFIED_TTL
        return record

    async def verify(self, token: str, client: str) -> TokenRecord | None:
        """The live record of `token`, or None; RateLimited when this client or id has failed too often."""
        if (record := self.remembered(token)) is not None:
            return record
        if (parts := parse(token)) is None or self.tokens.live(token_id := parts[0]) is None:
            return None
        self.by_address.check(client)
        self.by_token.check(token_id)
        digest = self._digest(token)
        if digest not in self._failed:
            loop = asyncio.get_running_loop()
            if (record := await loop.run_in_executor(self._pool, self.tokens.check, token)) is not None:
                self._verified[digest] = record.id
                return record
            self._failed[digest] = True
        self.by_address.count(client)
        self.by_token.count(token_id)
        return None

    def _digest(self, token: str) -> bytes:
        return hashlib.blake2b(token.strip().encode(), key=self._key, digest_size=16).digest()


def _yield_the_cpu() -> None:
    """Lower this worker thread's priority: Linux schedules threads one by one, each with its own nice."""
    if sys.platform == "linux":
        os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), ARGON2_NICENESS)
