"""SQLite for the home's state databases: WAL mode, one kept-open connection per thread and file, and the
base of the repositories over them (`Repository`).

Closing the last connection to a WAL database checkpoints it and syncs the file, which costs ~60×
the small transaction around it, so each thread keeps its connections open (a few per thread, the
least recently used closed first). A connection already in use further up the same thread's stack,
or one whose file was replaced on disk, is never handed out again.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from collections import OrderedDict
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import ClassVar

_KEPT_PER_THREAD = 8
_local = threading.local()


class _Kept:
    def __init__(self, path: Path):
        self.db = _open(path)  # creates the file if it is missing
        self.inode = os.stat(path).st_ino
        self.busy = False


def _open(path: Path) -> sqlite3.Connection:
    """Autocommit unless a caller says BEGIN; rows by column name; no fsync per commit (WAL keeps it
    durable across a crash of the process)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA synchronous=NORMAL")
    return db


def _kept(path: Path) -> _Kept | None:
    """This thread's idle connection to `path`, opened if needed; None when it is busy (nested use)."""
    pool: OrderedDict[str, _Kept] = _local.__dict__.setdefault("pool", OrderedDict())
    key = str(path)
    kept = pool.get(key)
    if kept is not None and kept.inode != _inode(path):
        pool.pop(key).db.close()
        kept = None
    if kept is None:
        kept = pool[key] = _Kept(path)
        while len(pool) > _KEPT_PER_THREAD:
            pool.popitem(last=False)[1].db.close()
    pool.move_to_end(key)
    return None if kept.busy else kept


def _inode(path: Path) -> int | None:
    try:
        return os.stat(path).st_ino
    except FileNotFoundError:
        return None


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    kept = _kept(path)
    if kept is None:
        db = _open(path)
        try:
            yield db
        finally:
            db.close()
        return
    kept.busy = True
    try:
        yield kept.db
    finally:
        kept.busy = False
        if kept.db.in_transaction:  # a caller's BEGIN must never leak into the next caller's work
            kept.db.rollback()


@contextmanager
def transaction(path: Path) -> Iterator[sqlite3.Connection]:
    """A serialised write transaction (BEGIN IMMEDIATE): committed when the block ends, rolled back if it raises."""
    with connect(path) as db:
        db.execute("BEGIN IMMEDIATE")
        try:
            yield db
            db.execute("COMMIT")
        except BaseException:
            db.execute("ROLLBACK")
            raise


def create(path: Path, schema: str) -> None:
    """Make sure the file exists in WAL mode with `schema` (CREATE ... IF NOT EXISTS statements)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)


Clock = Callable[[], datetime]


def utc_now() -> datetime:
    return datetime.now(UTC)


def stamp(at: datetime, timespec: str = "microseconds") -> str:
    """A time as stored: ISO text in UTC at a fixed precision, so text order is time order."""
    return at.astimezone(UTC).isoformat(timespec=timespec)


class Repository:
    """A store over one SQLite file of the home: the file and its `schema` made on first use, connections
    from this thread's kept ones, and the time from the clock it is given (the App's; else the wall clock)."""

    schema: ClassVar[str]

    def __init__(self, path: Path, clock: Clock = utc_now) -> None:
        self.path = path
        self.clock = clock
        create(path, self.schema)

    def _connect(self) -> AbstractContextManager[sqlite3.Connection]:
        return connect(self.path)

    def _transaction(self) -> AbstractContextManager[sqlite3.Connection]:
        return transaction(self.path)

    def _now(self, timespec: str = "microseconds") -> str:
        return stamp(self.clock(), timespec)
