"""Access tokens: one owner token and personal invite tokens, random, stored only as argon2 hashes.

A token reads `pt_<id>_<secret>`. The id finds the row, argon2 verifies the secret (tens of ms by
design); persona/server/verifier.py decides when that may run and remembers its answers.
Revocation is read from the row on every request.
"""

from __future__ import annotations

import secrets
import sqlite3
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from pydantic import BaseModel

from persona.db import Clock, Repository, utc_now
from persona.errors import PersonaError

_SCHEMA = """
CREATE TABLE IF NOT EXISTS access_tokens (
    id TEXT PRIMARY KEY,
    kind TEXT NOT NULL,
    address TEXT NOT NULL,
    hash TEXT NOT NULL,
    created TEXT NOT NULL,
    revoked TEXT
);
CREATE INDEX IF NOT EXISTS access_tokens_address ON access_tokens(address, revoked);
"""

TokenKind = Literal["owner", "invite"]
OWNER = "owner"  # the address column of owner tokens


class TokenRecord(BaseModel):
    id: str
    kind: TokenKind
    address: str
    created: str
    revoked: str | None = None


def parse(token: str) -> tuple[str, str] | None:
    prefix, _, rest = token.strip().partition("_")
    token_id, _, secret = rest.partition("_")  # the id is hex; the secret may itself contain "_"
    if prefix != "pt" or not token_id or not secret:
        return None
    return token_id, secret


class TokenStore(Repository):
    """Tokens in the home's state database (table `access_tokens`)."""

    schema = _SCHEMA

    def __init__(self, path: Path, hasher: PasswordHasher | None = None, clock: Clock = utc_now):
        super().__init__(path, clock)
        self.hasher = hasher or PasswordHasher()

    def issue(self, kind: TokenKind, address: str = OWNER) -> str:
        """A new token; for the owner, every earlier owner token stops working (rotation)."""
        address = OWNER if kind == "owner" else address.strip().lower()
        if kind == "invite" and "@" not in address:
            raise PersonaError(f"{address!r} is not an email address")
        token_id, secret = secrets.token_hex(8), secrets.token_urlsafe(32)
        digest = self.hasher.hash(secret)
        with self._transaction() as db:
            if kind == "owner":
                db.execute(
                    "UPDATE access_tokens SET revoked=? WHERE kind='owner' AND revoked IS NULL",
                    (self._now("seconds"),),
                )
            db.execute(
                "INSERT INTO access_tokens (id, kind, address, hash, created) VALUES (?,?,?,?,?)",
                (token_id, kind, address, digest, self._now("seconds")),
            )
        return f"pt_{token_id}_{secret}"

    def revoke(self, address: str) -> int:
        """Revoke every live invite of `address`; returns how many."""
        with self._connect() as db:
            return db.execute(
                "UPDATE access_tokens SET revoked=? WHERE kind='invite' AND address=? AND revoked IS NULL",
                (self._now("seconds"), address.strip().lower()),
            ).rowcount

    def has_owner_token(self) -> bool:
        with self._connect() as db:
            return (
                db.execute("SELECT 1 FROM access_tokens WHERE kind='owner' AND revoked IS NULL").fetchone()
                is not None
            )

    def records(self) -> list[TokenRecord]:
        with self._connect() as db:
            rows = db.execute(
                "SELECT id, kind, address, created, revoked FROM access_tokens ORDER BY created, rowid"
            ).fetchall()
        return [TokenRecord(**dict(r)) for r in rows]

    def check(self, token: str) -> TokenRecord | None:
        """The live record a token belongs to, or None (unknown, malformed, wrong secret or revoked).
        Runs argon2 for a live id: call it off the event loop."""
        if (parts := parse(token)) is None or (row := self._live_row(parts[0])) is None:
            return None
        try:
            self.hasher.verify(row["hash"], parts[1])
        except (VerificationError, InvalidHashError):
            return None
        return _record(row)

    def live(self, token_id: str) -> TokenRecord | None:
        """The record of an unrevoked token id, without checking any secret: one indexed read."""
        return _record(row) if (row := self._live_row(token_id)) else None

    def _live_row(self, token_id: str) -> sqlite3.Row | None:
        with self._connect() as db:
            row = db.execute("SELECT * FROM access_tokens WHERE id=?", (token_id,)).fetchone()
        return None if row is None or row["revoked"] else row


def _record(row: sqlite3.Row) -> TokenRecord:
    return TokenRecord(id=row["id"], kind=row["kind"], address=row["address"], created=row["created"])
