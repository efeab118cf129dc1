"""Which chat sessions each principal has, for listing and resuming (the turns live in the checkpointer)."""

from __future__ import annotations

import sqlite3

from pydantic import BaseModel

from persona.db import Repository
from persona.events import Principal

_SCHEMA = """
CREATE TABLE IF NOT EXISTS chat_sessions (
    principal TEXT NOT NULL,
    id TEXT NOT NULL,
    title TEXT NOT NULL,
    created TEXT NOT NULL,
    updated TEXT NOT NULL,
    messages INTEGER NOT NULL DEFAULT 0,
    PRIMARY KEY (principal, id)
);
"""


def principal_key(principal: Principal) -> str:
    """The same key the twin runner namespaces its threads with."""
    return principal.address or principal.role.value


class SessionInfo(BaseModel):
    id: str
    title: str
    created: str
    updated: str
    messages: int


class SessionIndex(Repository):
    schema = _SCHEMA

    def record(self, principal: Principal, session_id: str, text: str) -> None:
        """Note a message in a session, creating the session (titled by its first message) if new."""
        now = self._now()  # to the microsecond: messages in the same second still sort in order
        title = " ".join(text.split())[:60]
        with self._connect() as db:
            db.execute(
                "INSERT INTO chat_sessions (principal, id, title, created, updated, messages) "
                "VALUES (?,?,?,?,?,1) "
                "ON CONFLICT(principal, id) DO UPDATE SET updated=excluded.updated, messages=messages+1",
                (principal_key(principal), session_id, title, now, now),
            )

    def list(self, principal: Principal, limit: int = 50) -> list[SessionInfo]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM chat_sessions WHERE principal=? ORDER BY updated DESC, rowid DESC LIMIT ?",
                (principal_key(principal), limit),
            ).fetchall()
        return [self._info(r) for r in rows]

    def everyone(self, limit: int = 500) -> list[tuple[str, SessionInfo]]:
        """Every principal's sessions as (principal key, session), newest first: for the owner's view."""
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM chat_sessions ORDER BY updated DESC, rowid DESC LIMIT ?", (limit,)
            ).fetchall()
        return [(r["principal"], self._info(r)) for r in rows]

    def get(self, principal: Principal, session_id: str) -> SessionInfo | None:
        with self._connect() as db:
            row = db.execute(
                "SELECT * FROM chat_sessions WHERE principal=? AND id=?",
                (principal_key(principal), session_id),
            ).fetchone()
        return self._info(row) if row else None

    @staticmethod
    def _info(row: sqlite3.Row) -> SessionInfo:
        return SessionInfo(
            id=row["id"],
            title=row["title"],
            created=row["created"],
            updated=row["updated"],
            messages=row["messages"],
        )
