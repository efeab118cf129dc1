"""Forget what memory holds: one item, every item of a source (a file, a folder, a label), or all one
ingest run added. Removal reaches every index a search reads (MemoryStore.delete) and is audited.

An item is stored once per text, kind and audience: a text found in two files belongs to the one
ingested first, and forgetting the other file leaves it.
"""

from __future__ import annotations

from pydantic import BaseModel

from persona.memory.catalog import source_of
from persona.memory.store import MemoryStore
from persona.store import StateStore


class Selection(BaseModel):
    """Items chosen to be forgotten, and how they were chosen (for the audit log and the prompt)."""

    what: str  # "item <id>", "source <path>", "run <id>"
    ids: list[str]


def select_item(store: MemoryStore, item_id: str) -> Selection:
    return Selection(what=f"item {item_id}", ids=[id_ for id_, _ in store.entries(ids=[item_id])])


def select_source(store: MemoryStore, source: str) -> Selection:
    """Items whose source is `source` exactly, or lies in it: a message of that mbox or chat export, a
    file in that folder."""
    folder = source.rstrip("/") + "/"
    ids = [id_ for id_, meta in store.entries()
           if (file := source_of(meta)) == source or meta.get("source") == source or file.startswith(folder)]
    return Selection(what=f"source {source}", ids=ids)


def select_run(store: MemoryStore, run: str) -> Selection:
    return Selection(what=f"run {run}", ids=[id_ for id_, _ in store.entries({"ingest_run": run})])


def forget(store: MemoryStore, log: StateStore, chosen: Selection, actor: str = "owner") -> int:
    """Remove the chosen items; returns how many were removed. The audit entry names the choice."""
    removed = store.delete(chosen.ids)
    if removed:
        log.audit("memory_forgotten", actor, chosen.what, {"removed": removed})
    return removed
