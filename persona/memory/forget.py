"""Forget what memory holds: one item, every item of a source (a file, a folder, a label), all one
ingest run added, or every item dated before or since a day. Removal reaches every index a search reads
(MemoryStore.delete) and is audited.

An item is stored once per text, kind and audience: a text found in two files belongs to the one
ingested first, and forgetting the other file leaves it.
"""

from __future__ import annotations

from datetime import date

from pydantic import BaseModel

from persona.memory.catalog import source_of
from persona.memory.store import MemoryStore
from persona.store import StateStore


class Selection(BaseModel):
    """Items chosen to be forgotten, and how they were chosen (for the audit log and the prompt)."""

    what: str  # "item <id>", "source <path>", "run <id>", "dated before <day>"
    ids: list[str]


def select_item(store: MemoryStore, item_id: str) -> Selection:
    return Selection(what=f"item {item_id}", ids=[id_ for id_, _ in store.entries(ids=[item_id])])


def select_source(store: MemoryStore, source: str) -> Selection:
    """Items whose source is `source` exactly, or lies in it: a message of that mbox or chat export, a
    file in that folder."""
    folder = source.rstrip("/") + "/"
    ids = [
        id_
        for id_, meta in store.entries()
        if (file := source_of(meta)) == source or meta.get("source") == source or file.startswith(folder)
    ]
    return Selection(what=f"source {source}", ids=ids)


def select_run(store: MemoryStore, run: str) -> Selection:
    return Selection(what=f"run {run}", ids=[id_ for id_, _ in store.entries({"ingest_run": run})])


def select_dated(store: MemoryStore, before: date | None = None, since: date | None = None) -> Selection:
    """Items whose document is dated before the day `before` and on or after `since` (either may be
    left out), by the day the document gives in its own zone, as `persona memory sources` shows it (a
    mail's Date, a chat message's time, a note's last save). An item without a date is never chosen."""
    if before is None and since is None:
        raise ValueError("a date to forget before or since")
    low, high = since.isoformat() if since else "", before.isoformat() if before else "\uffff"
    ids = [
        id_
        for id_, meta in store.entries()
        if (day := str(meta.get("date") or "")[:10]) and low <= day < high
    ]
    bounds = [f"since {since}"] * (since is not None) + [f"before {before}"] * (before is not None)
    return Selection(what="dated " + " and ".join(bounds), ids=ids)


def forget(store: MemoryStore, log: StateStore, chosen: Selection, actor: str = "owner") -> int:
    """Remove the chosen items; returns how many were removed. The audit entry names the choice."""
    removed = store.delete(chosen.ids)
    if removed:
        log.audit("memory_forgotten", actor, chosen.what, {"removed": removed})
    return removed
