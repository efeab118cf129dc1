"""When the shared local model server stops by itself: idle for a while, and no process left that uses it.

Every process that uses the server holds a shared flock on its users file for as long as it runs; the
kernel drops the lock when that process exits, however it exits (kill -9 included). The server checks
now and then: nothing in flight, no request for `idle_timeout` seconds and nobody holding the file
(it can take the lock exclusively) means nobody will ask soon, so it exits and frees its memory.
"""

from __future__ import annotations

import fcntl
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO, NamedTuple

Clock = Callable[[], float]


def hold_users_lock(path: Path) -> IO[bytes]:
    """Count this process as a user of the server until the returned file is closed or the process ends.

    Blocks while an exiting server holds the file exclusively (a moment), so a server that decided to
    stop is never handed out again."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = path.open("ab")
    fcntl.flock(handle, fcntl.LOCK_SH)
    return handle


def nobody_holds(handle: IO[bytes]) -> bool:
    """Take the users lock exclusively if no process holds it; the caller keeps it while it exits."""
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        return False
    return True


class Usage(NamedTuple):
    """What the model server reports of its own work (llama-server's /metrics)."""

    busy: bool  # a request is being answered or waits for a slot
    decoded: float  # batches decoded since start: moves with every request, however short


class Activity:
    """How long the model server has been idle, read from its own counters now and then."""

    def __init__(self, read: Callable[[], Usage | None], clock: Clock = time.monotonic) -> None:
        self.read = read
        self.clock = clock
        self.last = clock()
        self.decoded: float | None = None

    def idle_for(self) -> float:
        """Seconds since the server was last seen working; an unreadable server counts as busy."""
        usage, now = self.read(), self.clock()
        if usage is None or usage.busy:
            self.last = now
        elif usage.decoded != self.decoded:
            if self.decoded is not None:  # the first look only learns where the counter stands
                self.last = now
            self.decoded = usage.decoded
        return now - self.last


class Watchdog:
    """Ends the server process once it is idle for `idle_timeout` s and its users file is free."""

    def __init__(
        self, activity: Activity, users: Path, idle_timeout: float, exit: Callable[[int], object]
    ) -> None:
        self.activity = activity
        self.users = users.open("ab")
        self.idle_timeout = idle_timeout
        self.exit = exit

    def check(self) -> bool:
        """Exit (and return True) when nobody uses the server any more."""
        if self.activity.idle_for() < self.idle_timeout or not nobody_holds(self.users):
            return False
        print(
            f"persona: idle for {self.idle_timeout:g} s and no process uses this server: exiting",
            file=sys.stderr,
            flush=True,
        )
        # Nothing is in flight; the exclusive lock is held until the process is gone, so a client arriving
        # now waits and then starts a new server.
        self.exit(0)
        return True

    def start(self) -> threading.Thread:
        interval = min(max(self.idle_timeout / 4, 0.2), 30.0)

        def loop() -> None:
            while not self.check():
                time.sleep(interval)

        thread = threading.Thread(target=loop, name="persona-idle-watchdog", daemon=True)
        thread.start()
        return thread


@contextmanager
def exclusively(path: Path) -> Iterator[None]:
    """Hold `path`'s lock alone for the block: one process at a time starts a server or builds one."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
