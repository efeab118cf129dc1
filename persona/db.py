"""SQLite connections for the home's state database: one short connection per operation, WAL mode."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def connect(path: Path) -> Iterator[sqlite3.Connection]:
    """Autocommit unless a caller says BEGIN; rows by column name; no fsync per commit (WAL keeps it
    durable across a crash of the process)."""
    db = sqlite3.connect(path, timeout=30, isolation_level=None)
    db.row_factory = sqlite3.Row
    db.execute("PRAGMA synchronous=NORMAL")
    try:
        yield db
    finally:
        db.close()


def create(path: Path, schema: str) -> None:
    """Make sure the file exists in WAL mode with `schema` (CREATE ... IF NOT EXISTS statements)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with connect(path) as db:
        db.execute("PRAGMA journal_mode=WAL")
        db.executescript(schema)
