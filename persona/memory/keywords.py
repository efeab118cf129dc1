"""The memory's keyword index: SQLite FTS5 beside the Chroma collection, kept in step by MemoryStore.

Chroma's `$contains` scans every document on each query (about 80 ms at 50k items even when nothing
matches) and does not rank. FTS5 answers from an inverted index and scores with BM25 over the whole
collection, so a word that is common in the owner's memory counts for little and a rare one for a lot.
Porter stemming lets "decided" find "decide". The audience and kind sit beside the text, so the index
never returns an item the asker may not see.
"""

from __future__ import annotations

import hashlib
import sqlite3
import threading
from collections.abc import Collection, Iterable, Mapping
from pathlib import Path

# bm25() takes one weight per column in declaration order; a mail's subject names its topic better
# than any sentence of its body, so it counts double. `people` (who wrote it and to whom) is matched
# only when a question names someone, never by its words. `meta` is the item's metadata as JSON, so a
# search reads the items it shows from here rather than from Chroma.
_COLUMNS = ("id", "audience", "kind", "subject", "people", "text", "meta")
_SCHEMA = """CREATE VIRTUAL TABLE IF NOT EXISTS items USING fts5(
    id UNINDEXED, audience UNINDEXED, kind UNINDEXED, subject, people, text, meta UNINDEXED,
    tokenize='porter unicode61')"""
_RANK = "bm25(items, 0, 0, 0, 2.0, 0, 1.0, 0)"
_WORDS = "{subject text} : "  # a query's words are looked for in these columns only
# Scoring a term reads every item holding it, so the common ones cost the most and weigh the least.
# FTS5's BM25 gives a term in more than half the items no weight at all (its idf, log((N-n+.5)/(n+.5)),
# is clamped to ~0): such a term is always left out (a term in all of 1,000 items cost 3-5 ms a query).
# Above _FEW items, so is one in more than _COMMON of them: it adds almost nothing (idf ≈ log 3 against
# ≈ log N for a rare one).
_COMMON = 0.25
_FEW = 1000


class KeywordIndex:
    def __init__(self, path: Path) -> None:
        # Writes share one connection and one lock. Each thread reads on a connection of its own: in WAL
        # mode a read sees the last commit and waits for no one, so a turn reading the items it shows
        # never queues behind another session's search.
        self._path = path
        self._db = sqlite3.connect(path, check_same_thread=False)
        self._lock = threading.Lock()
        self._readers = threading.local()
        # SQLite counts the commits other connections made since this one last asked: `version`'s own
        self._watch = sqlite3.connect(path, check_same_thread=False)
        self._watch_lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA journal_mode=WAL")  # an ingest in another process does not block reads
            columns = {row[1] for row in self._db.execute("PRAGMA table_info(items)")}
            if columns and set(_COLUMNS) - columns:  # an index from an older layout: the store refills it
                self._db.execute("DROP TABLE items")
            self._db.execute(_SCHEMA)

    def _reader(self) -> sqlite3.Connection:
        """This thread's read connection, opened on its first read."""
        db: sqlite3.Connection | None = getattr(self._readers, "db", None)
        if db is None:
            db = self._readers.db = sqlite3.connect(self._path)
            db.execute("PRAGMA query_only=ON")
        return db

    def count(self) -> int:
        return _count(self._reader())

    def fingerprint(self) -> tuple[int, float]:
        """(items, sum of their row ids): any add or delete moves the sum by ~2^55, far above the
        float's rounding of it."""
        row = self._reader().execute("SELECT count(*), total(id) FROM items_docsize").fetchone()
        return int(row[0]), float(row[1])

    def version(self) -> int:
        """A number that changes whenever a change to the index is committed, by this process or another;
        compare it only with what this same instance returned."""
        with self._watch_lock:
            return int(self._watch.execute("PRAGMA data_version").fetchone()[0])

    def add(self, rows: Iterable[tuple[str, str, str, str, str, str, str]]) -> None:
        """Rows of (id, audience, kind, subject, people, text, meta JSON); an id indexed before is
        replaced, not doubled."""
        with self._lock, self._db:
            self._db.executemany(
                f"INSERT OR REPLACE INTO items(rowid, {', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                ((_rowid(r[0]), *r) for r in rows),
            )

    def delete(self, ids: Collection[str]) -> None:
        with self._lock, self._db:
            self._db.executemany("DELETE FROM items WHERE rowid = ?", [(_rowid(i),) for i in ids])

    def clear(self) -> None:
        with self._lock, self._db:
            self._db.execute("DELETE FROM items")

    def scopes(self, ids: Collection[str]) -> dict[str, tuple[str, str]]:
        """(audience, kind) of each of these ids that the index holds."""
        return {id_: (audience, kind) for id_, audience, kind in self._rows("id, audience, kind", ids)}

    def every_scope(self) -> list[tuple[str, str, str]]:
        """(id, audience, kind) of every item."""
        return self._reader().execute("SELECT id, audience, kind FROM items").fetchall()

    def items(self, ids: Collection[str]) -> dict[str, tuple[str, str, str, str]]:
        """(audience, kind, text, meta) of each of these ids that the index holds."""
        return {row[0]: row[1:] for row in self._rows("id, audience, kind, text, meta", ids)}

    def _rows(self, columns: str, ids: Collection[str]) -> list[tuple[str, ...]]:
        rowids = list({_rowid(id_) for id_ in ids})
        if not rowids:
            return []
        return (
            self._reader()
            .execute(f"SELECT {columns} FROM items WHERE rowid IN ({','.join('?' * len(rowids))})", rowids)
            .fetchall()
        )

    def holding(self, phrases: Collection[str], audiences: Collection[str], limit: int) -> list[str]:
        """Ids of items holding these phrases (as the tokenizer splits them), up to `limit` for each
        phrase, none left out for being common: for checks that must not miss one, like the guard's."""
        if not audiences or limit <= 0:
            return []
        sql = (
            "SELECT id FROM items WHERE items MATCH ? "
            f"AND audience IN ({','.join('?' * len(audiences))}) LIMIT ?"
        )
        db = self._reader()
        found = [db.execute(sql, [_WORDS + _phrase(p), *audiences, limit]).fetchall() for p in phrases]
        return list(dict.fromkeys(id_ for rows in found for (id_,) in rows))

    def search(
        self, terms: Collection[str], audiences: Collection[str], limits: Mapping[str | None, int]
    ) -> dict[str | None, dict[str, float]]:
        """For each kind asked for (None: any kind), its best `limits[kind]` items holding any term, as
        id → BM25 score (higher is better), best first."""
        found: dict[str | None, dict[str, float]] = {kind: {} for kind in limits}
        if not terms or not audiences:
            return found
        sql = (
            f"SELECT id, {_RANK} AS score FROM items WHERE items MATCH ?"
            f" AND audience IN ({','.join('?' * len(audiences))}) AND (? IS NULL OR kind = ?)"
            " ORDER BY score LIMIT ?"
        )
        db = self._reader()
        total = _count(db)
        phrases = [_phrase(t) for t in terms]
        count = "SELECT count(*) FROM items WHERE items MATCH ?"
        most = min(total / 2, max(_COMMON * total, _FEW))
        rare = [p for p in phrases if db.execute(count, (_WORDS + p,)).fetchone()[0] <= most]
        if not rare:
            return found
        match = _WORDS + "(" + " OR ".join(rare) + ")"
        for kind, limit in limits.items():
            if limit > 0:
                rows = db.execute(sql, [match, *audiences, kind, kind, limit]).fetchall()
                found[kind] = {id_: -score for id_, score in rows}  # FTS5's bm25() is lower for better
        return found

    def people(self, words: Collection[str], audiences: Collection[str]) -> set[str]:
        """Those of `words` that name someone an item in scope was written by or to."""
        sql = (
            f"SELECT 1 FROM items WHERE items MATCH ? AND audience IN ({','.join('?' * len(audiences))})"
            " LIMIT 1"
        )
        db = self._reader()
        return {w for w in words if db.execute(sql, ["people : " + _phrase(w), *audiences]).fetchone()}


def _count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM items_docsize").fetchone()[0])  # one row per item


def _phrase(text: str) -> str:
    """`text` as one FTS5 phrase: quoted, so it is never read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _rowid(id_: str) -> int:
    """The item's row: found by its id without a scan (FTS5 does not index UNINDEXED columns)."""
    return int.from_bytes(hashlib.blake2b(id_.encode(), digest_size=7).digest(), "big")
