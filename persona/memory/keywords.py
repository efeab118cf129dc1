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
from collections.abc import Collection, Iterable, Iterator, Mapping
from pathlib import Path

# bm25() takes one weight per column in declaration order; a mail's subject names its topic better
# than any sentence of its body, so it counts double. `people` (who wrote it and to whom) is matched
# only when a question names someone, never by its words. `meta` is the item's metadata as JSON, so a
# search reads the items it shows from here rather than from Chroma.
_COLUMNS = ("id", "audience", "kind", "subject", "people", "text", "meta")
_SCHEMA = """CREATE VIRTUAL TABLE IF NOT EXISTS items USING fts5(
    id UNINDEXED, audience UNINDEXED, kind UNINDEXED, subject, people, text, meta UNINDEXED,
    tokenize='porter unicode61')"""
# Beside it, for what a search reads of every item it matches: `scopes`, each item's audience and kind
# (FTS5 reads a whole row, text and metadata too, for one column of it: 23 µs an item, against ~1 µs
# here), and `names`, who wrote and received each item, an index of their own, so a question's word that
# names nobody costs one empty look-up rather than a pass over every item holding that word.
_SIDE = (
    "CREATE TABLE IF NOT EXISTS scopes(rowid INTEGER PRIMARY KEY, id TEXT, audience TEXT, kind TEXT)",
    "CREATE VIRTUAL TABLE IF NOT EXISTS names USING fts5(people, audience, tokenize='porter unicode61')",
)
_RANK = "bm25(items, 0, 0, 0, 2.0, 0, 1.0, 0)"
_WORDS = "{subject text} : "  # a query's words are looked for in these columns only
# Scoring a term reads every item holding it, so the common ones cost the most and weigh the least.
# FTS5's BM25 gives a term in more than half the items no weight at all (its idf, log((N-n+.5)/(n+.5)),
# is clamped to ~0): such a term is always left out (a term in all of 1,000 items cost 3-5 ms a query).
# Above _FEW items, so is one in more than _COMMON of them: it adds almost nothing (idf ≈ log 3 against
# ≈ log N for a rare one).
_COMMON = 0.25
_FEW = 1000
# Ranking costs ~6 µs an item matched. Above _LARGE items the rarest terms are scored first, and a term
# is left out once the items holding the terms taken would pass _POSTINGS: at 1M items a term in 0.1% of
# them weighs log 1,000 where one in 0.001% weighs log 100,000. Zipf-worded mail at 195k items: 7.8 ms
# of CPU a search at p50, p90 16 ms (every term under a quarter of the items: 20 / 150 ms at 60k).
_LARGE = 20_000
_POSTINGS = 1000


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
            for table in _SIDE:
                self._db.execute(table)
            with self._db:
                if _count(self._db) != self._db.execute("SELECT count(*) FROM scopes").fetchone()[0]:
                    self._fill_side()  # an index from before them, or one the store is about to refill

    def _fill_side(self) -> None:
        self._db.execute("DELETE FROM scopes")
        self._db.execute("DELETE FROM names")
        self._db.execute("INSERT INTO scopes SELECT rowid, id, audience, kind FROM items")
        self._db.execute(
            "INSERT INTO names(rowid, people, audience) SELECT rowid, people, audience FROM items"
        )

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
        written: list[tuple[int, str, str, str, str]] = []  # (rowid, id, audience, kind, people)

        def each() -> Iterator[tuple[object, ...]]:
            for r in rows:  # written as they come: an add of many items is read as it is being made
                written.append((_rowid(r[0]), r[0], r[1], r[2], r[4]))
                yield written[-1][0], *r

        with self._lock, self._db:
            self._db.executemany(
                f"INSERT OR REPLACE INTO items(rowid, {', '.join(_COLUMNS)}) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                each(),
            )
            self._db.executemany("DELETE FROM names WHERE rowid = ?", [(w[0],) for w in written])
            self._db.executemany(
                "INSERT OR REPLACE INTO scopes VALUES (?, ?, ?, ?)", [w[:4] for w in written]
            )
            self._db.executemany(
                "INSERT INTO names(rowid, people, audience) VALUES (?, ?, ?)",
                [(rowid, people, audience) for rowid, _, audience, _, people in written],
            )

    def delete(self, ids: Collection[str]) -> None:
        with self._lock, self._db:
            for table in ("items", "scopes", "names"):
                self._db.executemany(f"DELETE FROM {table} WHERE rowid = ?", [(_rowid(i),) for i in ids])

    def clear(self) -> None:
        with self._lock, self._db:
            for table in ("items", "scopes", "names"):
                self._db.execute(f"DELETE FROM {table}")

    def scopes(self, ids: Collection[str]) -> dict[str, tuple[str, str]]:
        """(audience, kind) of each of these ids that the index holds."""
        return {
            id_: (audience, kind) for id_, audience, kind in self._rows("id, audience, kind", ids, "scopes")
        }

    def every_scope(self) -> list[tuple[str, str, str]]:
        """(id, audience, kind) of every item."""
        return self._reader().execute("SELECT id, audience, kind FROM scopes").fetchall()

    def items(self, ids: Collection[str]) -> dict[str, tuple[str, str, str, str]]:
        """(audience, kind, text, meta) of each of these ids that the index holds."""
        return {row[0]: row[1:] for row in self._rows("id, audience, kind, text, meta", ids)}

    def _rows(self, columns: str, ids: Collection[str], table: str = "items") -> list[tuple[str, ...]]:
        rowids = list({_rowid(id_) for id_ in ids})
        if not rowids:
            return []
        return (
            self._reader()
            .execute(f"SELECT {columns} FROM {table} WHERE rowid IN ({','.join('?' * len(rowids))})", rowids)
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
        limits = {kind: limit for kind, limit in limits.items() if limit > 0}
        if not terms or not audiences or not limits:
            return found
        db = self._reader()
        total = _count(db)
        most = int(min(total / 2, max(_COMMON * total, _FEW)))
        budget = _POSTINGS if total > _LARGE else total * len(terms)
        # how many items hold each term, counted no further than a term could be taken
        count = "SELECT count(*) FROM (SELECT 1 FROM items WHERE items MATCH ? LIMIT ?)"
        held = sorted(
            (db.execute(count, (_WORDS + p, min(most, budget) + 1)).fetchone()[0], p)
            for p in map(_phrase, terms)
        )
        taken, postings = set(), 0
        for n, phrase in held:  # rarest first
            if n > most or postings + n > budget:
                break
            taken.add(phrase)
            postings += n
        rare = [p for p in map(_phrase, terms) if p in taken]  # in the query's order: BM25 sums in it
        if not rare:
            return found
        kinds = [kind for kind in limits if kind is not None]
        sql = (
            f"SELECT items.id, scopes.kind, {_RANK} AS score FROM items JOIN scopes ON scopes.rowid = items.rowid"
            f" WHERE items MATCH ? AND scopes.audience IN ({','.join('?' * len(audiences))})"
            + ("" if None in limits else f" AND scopes.kind IN ({','.join('?' * len(kinds))})")
            + " ORDER BY score"
        )
        match = _WORDS + "(" + " OR ".join(rare) + ")"
        for id_, kind, score in db.execute(sql, [match, *audiences, *([] if None in limits else kinds)]):
            for wanted in (None, kind):
                if wanted in limits and len(found[wanted]) < limits[wanted]:
                    found[wanted][id_] = -score  # FTS5's bm25() is lower for better
            if all(len(found[kind]) == limit for kind, limit in limits.items()):
                break
        return found

    def people(self, words: Collection[str], audiences: Collection[str]) -> set[str]:
        """Those of `words` that name someone an item in scope was written by or to."""
        if not audiences:
            return set()
        sql = "SELECT 1 FROM names WHERE names MATCH ? LIMIT 1"
        scope = "audience : (" + " OR ".join(_phrase(a) for a in audiences) + ")"
        db = self._reader()
        return {w for w in words if db.execute(sql, [f"people : {_phrase(w)} AND {scope}"]).fetchone()}


def _count(db: sqlite3.Connection) -> int:
    return int(db.execute("SELECT count(*) FROM items_docsize").fetchone()[0])  # one row per item


def _phrase(text: str) -> str:
    """`text` as one FTS5 phrase: quoted, so it is never read as query syntax."""
    return '"' + text.replace('"', '""') + '"'


def _rowid(id_: str) -> int:
    """The item's row: found by its id without a scan (FTS5 does not index UNINDEXED columns)."""
    return int.from_bytes(hashlib.blake2b(id_.encode(), digest_size=7).digest(), "big")
