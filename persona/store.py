"""The state database of one home: approvals queue, tamper-evident audit log, messages left for the
owner, exactly-once ledger.

A `persona.db.Repository`: SQLite in WAL mode, each thread on its own kept connection, so threads and
the server's event loop (via `asyncio.to_thread`) can share one StateStore; times come from its clock.
"""

from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from typing import Any, Literal

from pydantic import BaseModel

from persona.db import Repository
from persona.errors import PersonaError
from persona.events import Action, Decision

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    seq INTEGER PRIMARY KEY,
    ts TEXT NOT NULL,
    kind TEXT NOT NULL,
    actor TEXT NOT NULL,
    subject TEXT NOT NULL,
    detail TEXT NOT NULL,
    prev_hash TEXT NOT NULL,
    hash TEXT NOT NULL
);
CREATE TABLE IF NOT EXISTS approvals (
    id TEXT PRIMARY KEY,
    created TEXT NOT NULL,
    status TEXT NOT NULL,
    action TEXT NOT NULL,
    reason TEXT NOT NULL,
    decided_at TEXT,
    decided_by TEXT,
    edited TEXT,
    receipt TEXT
);
CREATE INDEX IF NOT EXISTS approvals_status ON approvals(status, created);
CREATE TABLE IF NOT EXISTS messages (
    id TEXT PRIMARY KEY,
    at TEXT NOT NULL,
    sender TEXT NOT NULL,
    name TEXT NOT NULL,
    role TEXT NOT NULL,
    channel TEXT NOT NULL,
    text TEXT NOT NULL,
    read INTEGER NOT NULL DEFAULT 0
);
CREATE INDEX IF NOT EXISTS messages_at ON messages(read, at);
CREATE TABLE IF NOT EXISTS ledger (
    key TEXT PRIMARY KEY,
    status TEXT NOT NULL,
    value TEXT NOT NULL DEFAULT '',
    updated TEXT NOT NULL
);
"""

GENESIS = "0" * 64
ApprovalStatus = Literal["pending", "approved", "rejected", "executed", "failed", "dismissed"]


def _entry_hash(prev_hash: str, ts: str, kind: str, actor: str, subject: str, detail: str) -> str:
    canonical = json.dumps([prev_hash, ts, kind, actor, subject, detail], separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


class AuditEntry(BaseModel):
    seq: int
    ts: str
    kind: str
    actor: str
    subject: str
    detail: dict[str, Any]
    hash: str


class AuditCheck(BaseModel):
    ok: bool
    entries: int
    first_bad_seq: int | None = None
    problem: str = ""


class Approval(BaseModel):
    id: str
    created: str
    status: ApprovalStatus
    action: Action
    reason: str
    decided_at: str | None = None
    decided_by: str | None = None
    edited: dict[str, Any] | None = None
    receipt: str | None = None

    @property
    def effective_action(self) -> Action:
        """The action as the owner approved it: their edits replace payload fields."""
        if not self.edited:
            return self.action
        return self.action.model_copy(update={"payload": {**self.action.payload, **self.edited}})


class MessageForOwner(BaseModel):
    """Something a person asked the twin to pass on, as they wrote it: data for the owner to read."""

    id: str
    at: str  # ISO time it was left
    sender: str  # address, or the role when there is none
    name: str = ""
    role: str
    channel: str
    text: str
    read: bool = False


class StateStore(Repository):
    """What one home must not lose: the approvals queue, the audit log, messages for the owner, the ledger.

    Guarantees: the audit log is a hash chain appended one entry at a time (`verify_audit` finds an entry
    changed or removed); an action is queued once per id, and an approval or a ledger key moves only by
    compare-and-set (`expect=`), which is what lets two approvers, or a crashed and a rerun inbox pass,
    never do the same step twice; one StateStore is safe to share between threads.
    """

    schema = _SCHEMA

    # -- audit -------------------------------------------------------------------------------
    def audit(self, kind: str, actor: str, subject: str, detail: dict[str, Any] | None = None) -> AuditEntry:
        with self._transaction() as db:  # serialised: the audit chain never forks
            return self._audit(db, kind, actor, subject, detail or {})

    def _audit(
        self, db: sqlite3.Connection, kind: str, actor: str, subject: str, detail: dict[str, Any]
    ) -> AuditEntry:
        row = db.execute("SELECT hash FROM audit ORDER BY seq DESC LIMIT 1").fetchone()
        prev = row["hash"] if row else GENESIS
        ts = self._now()
        body = json.dumps(detail, sort_keys=True, default=str)
        digest = _entry_hash(prev, ts, kind, actor, subject, body)
        cur = db.execute(
            "INSERT INTO audit (ts, kind, actor, subject, detail, prev_hash, hash) VALUES (?,?,?,?,?,?,?)",
            (ts, kind, actor, subject, body, prev, digest),
        )
        assert cur.lastrowid is not None  # an INSERT into a rowid table always has one
        return AuditEntry(
            seq=cur.lastrowid, ts=ts, kind=kind, actor=actor, subject=subject, detail=detail, hash=digest
        )

    def audit_entries(self, limit: int = 50, kind: str | None = None) -> list[AuditEntry]:
        query = "SELECT * FROM audit" + (" WHERE kind = ?" if kind else "") + " ORDER BY seq DESC LIMIT ?"
        params: tuple[Any, ...] = (kind, limit) if kind else (limit,)
        with self._connect() as db:
            rows = db.execute(query, params).fetchall()
        return [
            AuditEntry(
                seq=r["seq"],
                ts=r["ts"],
                kind=r["kind"],
                actor=r["actor"],
                subject=r["subject"],
                detail=json.loads(r["detail"]),
                hash=r["hash"],
            )
            for r in reversed(rows)
        ]

    def audit_kinds(self) -> list[str]:
        with self._connect() as db:
            return [r[0] for r in db.execute("SELECT DISTINCT kind FROM audit ORDER BY kind")]

    def verify_audit(self) -> AuditCheck:
        """Recompute the hash chain; any edited, inserted or deleted row breaks it."""
        prev, count = GENESIS, 0
        with self._connect() as db:
            for r in db.execute("SELECT * FROM audit ORDER BY seq"):
                count += 1
                if r["prev_hash"] != prev:
                    return AuditCheck(
                        ok=False,
                        entries=count,
                        first_bad_seq=r["seq"],
                        problem="chain broken (row removed or reordered)",
                    )
                expected = _entry_hash(prev, r["ts"], r["kind"], r["actor"], r["subject"], r["detail"])
                if r["hash"] != expected:
                    return AuditCheck(
                        ok=False, entries=count, first_bad_seq=r["seq"], problem="row content was altered"
                    )
                prev = r["hash"]
        return AuditCheck(ok=True, entries=count)

    # -- approvals ---------------------------------------------------------------------------
    def enqueue_approval(self, action: Action, decision: Decision) -> Approval:
        approval = Approval(
            id=action.id, created=self._now(), status="pending", action=action, reason=decision.reason
        )
        with self._transaction() as db:
            db.execute(
                "INSERT OR IGNORE INTO approvals (id, created, status, action, reason) VALUES (?,?,?,?,?)",
                (approval.id, approval.created, approval.status, action.model_dump_json(), approval.reason),
            )
        return approval

    def approvals(self, status: ApprovalStatus | None = "pending", limit: int = 200) -> list[Approval]:
        query = (
            "SELECT * FROM approvals"
            + (" WHERE status = ?" if status else "")
            + " ORDER BY created, rowid LIMIT ?"
        )
        params: tuple[Any, ...] = (status, limit) if status else (limit,)
        with self._connect() as db:
            return [self._approval(r) for r in db.execute(query, params).fetchall()]

    def decided_approvals(self, limit: int = 50) -> list[Approval]:
        """Every approval no longer waiting (carried out, failed, rejected, dismissed), latest decided first."""
        query = (
            "SELECT * FROM approvals WHERE status != 'pending'"
            " ORDER BY decided_at DESC, created DESC, rowid DESC LIMIT ?"
        )
        with self._connect() as db:
            return [self._approval(r) for r in db.execute(query, (limit,)).fetchall()]

    def count_approvals(self, status: ApprovalStatus) -> int:
        with self._connect() as db:
            count: int = db.execute("SELECT count(*) FROM approvals WHERE status = ?", (status,)).fetchone()[
                0
            ]
        return count

    def get_approval(self, id_or_prefix: str) -> Approval:
        with self._connect() as db:
            rows = db.execute(
                "SELECT * FROM approvals WHERE id LIKE ? ESCAPE '\\' LIMIT 2", (_starts_with(id_or_prefix),)
            ).fetchall()
        if not rows:
            raise PersonaError(f"no approval with id {id_or_prefix!r}; `persona approvals list` shows them")
        if len(rows) > 1:
            raise PersonaError(f"approval id {id_or_prefix!r} is ambiguous; give more characters")
        return self._approval(rows[0])

    def set_approval(
        self,
        approval_id: str,
        status: ApprovalStatus,
        *,
        by: str = "",
        edited: dict[str, Any] | None = None,
        receipt: str | None = None,
        expect: ApprovalStatus | None = None,
    ) -> bool:
        """Move an approval to `status`; with `expect`, only from that status (a compare-and-set)."""
        query = (
            "UPDATE approvals SET status=?, decided_at=?, decided_by=COALESCE(NULLIF(?, ''), decided_by), "
            "edited=COALESCE(?, edited), receipt=COALESCE(?, receipt) WHERE id=?"
        )
        params: list[Any] = [
            status,
            self._now(),
            by,
            json.dumps(edited) if edited else None,
            receipt,
            approval_id,
        ]
        if expect:
            query += " AND status=?"
            params.append(expect)
        with self._transaction() as db:
            return db.execute(query, params).rowcount == 1

    @staticmethod
    def _approval(r: sqlite3.Row) -> Approval:
        return Approval(
            id=r["id"],
            created=r["created"],
            status=r["status"],
            action=Action.model_validate_json(r["action"]),
            reason=r["reason"],
            decided_at=r["decided_at"],
            decided_by=r["decided_by"],
            edited=json.loads(r["edited"]) if r["edited"] else None,
            receipt=r["receipt"],
        )

    def edit_approval(self, approval_id: str, edited: dict[str, Any]) -> bool:
        """Replace payload fields of a pending approval before it is approved (the owner's edit)."""
        with self._transaction() as db:
            row = db.execute(
                "SELECT edited FROM approvals WHERE id=? AND status='pending'", (approval_id,)
            ).fetchone()
            if row is None:
                return False
            merged = {**(json.loads(row["edited"]) if row["edited"] else {}), **edited}
            db.execute("UPDATE approvals SET edited=? WHERE id=?", (json.dumps(merged), approval_id))
            return True

    # -- messages for the owner --------------------------------------------------------------
    def leave_message(self, message: MessageForOwner) -> bool:
        """Keep a message for the owner; the same id twice is one message. True when it is new."""
        with self._transaction() as db:
            return (
                db.execute(
                    "INSERT OR IGNORE INTO messages (id, at, sender, name, role, channel, text, read) VALUES (?,?,?,?,?,?,?,0)",
                    (
                        message.id,
                        message.at,
                        message.sender,
                        message.name,
                        message.role,
                        message.channel,
                        message.text,
                    ),
                ).rowcount
                == 1
            )

    def messages(self, *, unread_only: bool = False, limit: int = 100) -> list[MessageForOwner]:
        """Messages for the owner, newest first."""
        query = (
            "SELECT * FROM messages"
            + (" WHERE read = 0" if unread_only else "")
            + " ORDER BY at DESC, rowid DESC LIMIT ?"
        )
        with self._connect() as db:
            rows = db.execute(query, (limit,)).fetchall()
        return [MessageForOwner(**dict(r) | {"read": bool(r["read"])}) for r in rows]

    def mark_read(self, ids: list[str]) -> None:
        with self._transaction() as db:
            db.executemany("UPDATE messages SET read = 1 WHERE id = ?", [(i,) for i in ids])

    # -- exactly-once ledger -----------------------------------------------------------------
    def ledger_get(self, key: str) -> tuple[str, str] | None:
        with self._connect() as db:
            row = db.execute("SELECT status, value FROM ledger WHERE key = ?", (key,)).fetchone()
        return (row["status"], row["value"]) if row else None

    def ledger_set(self, key: str, status: str, value: str = "", *, expect: str | None = None) -> bool:
        """Record a step as done. With `expect`, only if the key is currently in that status
        (`expect=""` means: only if the key is absent) — a compare-and-set for exactly-once work."""
        with self._transaction() as db:
            row = db.execute("SELECT status FROM ledger WHERE key = ?", (key,)).fetchone()
            current = row["status"] if row else ""
            if expect is not None and current != expect:
                return False
            db.execute(
                "INSERT INTO ledger (key, status, value, updated) VALUES (?,?,?,?) "
                "ON CONFLICT(key) DO UPDATE SET status=excluded.status, value=excluded.value, updated=excluded.updated",
                (key, status, value, self._now()),
            )
            return True

    def ledger_keys(self, prefix: str, status: str | None = None) -> list[tuple[str, str, str]]:
        query = "SELECT key, status, value FROM ledger WHERE key LIKE ? ESCAPE '\\'" + (
            " AND status = ?" if status else ""
        )
        params: tuple[Any, ...] = (_starts_with(prefix), status) if status else (_starts_with(prefix),)
        with self._connect() as db:
            return [(r["key"], r["status"], r["value"]) for r in db.execute(query + " ORDER BY key", params)]


def _starts_with(prefix: str) -> str:
    """A LIKE pattern matching `prefix` literally: `%` and `_` in ids are characters, not wildcards."""
    return re.sub(r"([\\%_])", r"\\\1", prefix) + "%"
