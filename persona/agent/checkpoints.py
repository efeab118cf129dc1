"""Where the twin's conversations are kept: LangGraph's SqliteSaver, called from the event loop.

AsyncSqliteSaver hands each statement to aiosqlite's thread and waits for the answer: the few
statements of a turn cost ~2 ms of thread hops. On one kept WAL connection with synchronous=NORMAL
the same statements take a fraction of a millisecond and never wait for the disk (a commit syncs
nothing until the WAL is checkpointed), so running them on the loop holds it for less time than the
hops did. Serialising the checkpoint ran on the loop before as well.

A turn's checkpoint replaces its thread's older ones: the next turn resumes from the latest, and
each holds the whole conversation, so keeping them all grew a session's rows with the square of its
length (45 MB for one 400-turn session) and made memory upkeep, which lists them, slower each day.
The graph has no DeltaChannel, the one kind of channel rebuilt from older checkpoints.
"""

from __future__ import annotations

import sqlite3
from collections.abc import AsyncIterator, Iterator, Mapping, Sequence
from contextlib import closing, contextmanager
from pathlib import Path
from typing import Any

from langchain_core.runnables import RunnableConfig
from langgraph.checkpoint.base import ChannelVersions, Checkpoint, CheckpointMetadata, CheckpointTuple
from langgraph.checkpoint.sqlite import SqliteSaver

from persona.agent.graph import conversation


class Checkpoints(SqliteSaver):
    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Checkpoints]:
        with closing(sqlite3.connect(path, check_same_thread=False)) as conn:
            saver = cls(conn)
            saver.setup()  # also switches the file to WAL
            conn.execute("PRAGMA synchronous=NORMAL")
            with saver.cursor() as cur:  # a file written before threads kept only their latest
                _keep_latest(cur)
            yield saver

    async def aget_tuple(self, config: RunnableConfig) -> CheckpointTuple | None:
        return self.get_tuple(config)

    async def alist(
        self,
        config: RunnableConfig | None,
        *,
        filter: dict[str, Any] | None = None,
        before: RunnableConfig | None = None,
        limit: int | None = None,
    ) -> AsyncIterator[CheckpointTuple]:
        for item in self.list(config, filter=filter, before=before, limit=limit):
            yield item

    async def aput(
        self,
        config: RunnableConfig,
        checkpoint: Checkpoint,
        metadata: CheckpointMetadata,
        new_versions: ChannelVersions,
    ) -> RunnableConfig:
        saved = self.put(config, checkpoint, metadata, new_versions)
        where = saved["configurable"]
        with self.cursor() as cur:
            _keep_latest(cur, (where["thread_id"], where["checkpoint_ns"]))
        return saved

    async def aput_writes(
        self, config: RunnableConfig, writes: Sequence[tuple[str, Any]], task_id: str, task_path: str = ""
    ) -> None:
        self.put_writes(config, writes, task_id, task_path)

    async def adelete_thread(self, thread_id: str) -> None:
        self.delete_thread(thread_id)

    async def aget_delta_channel_history(
        self, *, config: RunnableConfig, channels: Sequence[str]
    ) -> Mapping[str, Any]:
        return self.get_delta_channel_history(config=config, channels=channels)


def conversations_since(
    path: Path, after: str
) -> dict[str, tuple[str, dict[str, Any], list[tuple[str, str]]]]:
    """thread id -> (time of its latest state, principal, [(speaker, text)]) for the threads of the
    checkpoint file at `path` updated after `after` (an ISO time); memory upkeep folds them."""
    if not path.exists():
        return {}
    latest: dict[str, tuple[str, dict[str, Any], list[tuple[str, str]]]] = {}
    with SqliteSaver.from_conn_string(str(path)) as saver:
        for snapshot in saver.list(None):  # newest first: the first one seen per thread is its state now
            thread = snapshot.config["configurable"]["thread_id"]
            ts = snapshot.checkpoint["ts"]
            if thread in latest or ts <= after:
                continue
            values = snapshot.checkpoint.get("channel_values", {})
            spoken = [(speaker, text) for speaker, text in conversation(values) if text.strip()]
            if spoken:
                latest[thread] = (ts, values.get("principal", {}), spoken)
    return latest


def _keep_latest(cur: sqlite3.Cursor, thread: tuple[str, str] | None = None) -> None:
    """Delete the checkpoints older than their thread's latest (ids sort by time), and their pending
    writes: of one (thread_id, checkpoint_ns), or of every thread in one statement a table."""
    only = " AND thread_id = ? AND checkpoint_ns = ?" if thread else ""
    for table in ("writes", "checkpoints"):
        cur.execute(
            f"DELETE FROM {table} WHERE checkpoint_id < (SELECT max(newest.checkpoint_id) FROM checkpoints"
            f" AS newest WHERE newest.thread_id = {table}.thread_id"
            f" AND newest.checkpoint_ns = {table}.checkpoint_ns){only}",
            thread or (),
        )
