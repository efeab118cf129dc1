"""Browser sessions: signing in with a token sets a cookie holding a random session id, never the token.

The state database keeps the id's SHA-256 (256 random bits need no slow hash) with the token it was
opened with and when it expires. A session ends at sign-out, at its expiry, and when its token is
revoked: every lookup joins the token's row, so `persona invite --revoke` and a new owner token sign
those browsers out at once.
"""

from __future__ import annotations

import hashlib
import secrets
from datetime import timedelta

from persona.db import Repository, stamp
from persona.server.tokens import TokenRecord, TokenStore

_SCHEMA = """
CREATE TABLE IF NOT EXISTS web_sessions (
    hash TEXT PRIMARY KEY,
    token_id TEXT NOT NULL,
    created TEXT NOT NULL,
    expires TEXT NOT NULL
);
"""


def _digest(session: str) -> str:
    return hashlib.sha256(session.encode()).hexdigest()


class WebSessions(Repository):
    """Sessions in the home's state database, beside the tokens they were opened with (and on their clock)."""

    schema = _SCHEMA

    def __init__(self, tokens: TokenStore, days: int):
        super().__init__(tokens.path, tokens.clock)
        self.days = days

    def open(self, token_id: str) -> str:
        """A new session id for a verified token; sessions that have ended are cleared on the way."""
        session, now = secrets.token_urlsafe(32), self.clock()
        with self._transaction() as db:
            db.execute(
                "DELETE FROM web_sessions WHERE expires <= ? OR token_id NOT IN"
                " (SELECT id FROM access_tokens WHERE revoked IS NULL)",
                (stamp(now),),
            )
            db.execute(
                "INSERT INTO web_sessions (hash, token_id, created, expires) VALUES (?,?,?,?)",
                (_digest(session), token_id, stamp(now), stamp(now + timedelta(days=self.days))),
            )
        return session

    def record(self, session: str) -> TokenRecord | None:
        """The live token behind a live session, or None: one indexed read."""
        with self._connect() as db:
            row = db.execute(
                "SELECT t.id, t.kind, t.address, t.created FROM web_sessions s"
                " JOIN access_tokens t ON t.id = s.token_id"
                " WHERE s.hash = ? AND s.expires > ? AND t.revoked IS NULL",
                (_digest(session), self._now()),
            ).fetchone()
        return TokenRecord(**dict(row)) if row else None

    def close(self, session: str) -> None:
        with self._connect() as db:
            db.execute("DELETE FROM web_sessions WHERE hash = ?", (_digest(session),))
