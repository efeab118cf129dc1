"""What looks wrong in memory, for `persona doctor`: junk that ingest let through, and runs that never
finished. Nothing here removes anything; each finding comes with the `persona forget` that would.
"""

from __future__ import annotations

from collections import Counter

from pydantic import BaseModel

from persona.input_limits import looks_binary
from persona.memory.catalog import source_of
from persona.memory.store import MemoryStore
from persona.store import StateStore

# Chunks of one document above which it is more likely junk than writing: ~100k words, a 500 KB note.
# A mailbox of thousands of messages is many documents, each a few chunks, and is not flagged.
MANY_CHUNKS = 1_000


class Oddities(BaseModel):
    binary: dict[str, int]  # source -> its items whose text reads as binary data
    chunky: dict[str, int]  # source -> the chunks of its largest document, when over MANY_CHUNKS
    failed: dict[str, str]  # ingest run -> its error, for runs that failed and left items
    interrupted: list[str]  # ingest runs that started, left items and never finished nor failed

    def lines(self) -> list[str]:
        """One line per finding, with what removes it."""
        found = [
            f"run {run} failed ({error}): `persona forget --run {run}`" for run, error in self.failed.items()
        ]
        found += [f"run {run} never finished: `persona forget --run {run}`" for run in self.interrupted]
        found += [
            f"{n} items of {source} read as binary data: `persona forget --source {source}`"
            for source, n in self.binary.items()
        ]
        found += [
            f"one document of {source} is {n} chunks (over {MANY_CHUNKS:,}): `persona forget --source {source}`"
            for source, n in self.chunky.items()
        ]
        return found


def oddities(memory: MemoryStore, log: StateStore) -> Oddities:
    """Read every item once (text and metadata) and the audit log's ingest entries."""
    binary: Counter[str] = Counter()
    chunks: Counter[tuple[str, str]] = Counter()  # (source, document) -> its knowledge chunks
    runs: set[str] = set()
    for _, text, meta in memory.texts():
        source = source_of(meta)
        if looks_binary(text):
            binary[source] += 1
        if meta.get("kind") == "knowledge":
            chunks[source, str(meta.get("doc_id", ""))] += 1
        if run := meta.get("ingest_run"):
            runs.add(str(run))
    largest: dict[str, int] = {}
    for (source, _), n in chunks.items():
        if n > MANY_CHUNKS:
            largest[source] = max(largest.get(source, 0), n)
    finished = {e.subject for e in log.audit_entries(limit=10_000, kind="ingested")}
    failed = {
        e.subject: str(e.detail.get("error", ""))
        for e in log.audit_entries(limit=10_000, kind="ingest_failed")
    }
    started = [e.subject for e in log.audit_entries(limit=10_000, kind="ingest_started")]
    return Oddities(
        binary=dict(binary),
        chunky=largest,
        failed={run: error for run, error in failed.items() if run in runs and run not in finished},
        interrupted=[run for run in started if run in runs and run not in finished and run not in failed],
    )
