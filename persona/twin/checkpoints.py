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


class Checkpoints(SqliteSaver):
    @classmethod
    @contextmanager
    def open(cls, path: Path) -> Iterator[Checkpoints]:
        with closing(sqlite3.connect(path, check_same_thread=False)) as conn:
            saver = cls(conn)
            saver.setup()  # also switches the file to WAL
            conn.execute("PRAGMA synchronous=NORMAL")
            with saver.cursor() as cur:  # a file written before threads kept only their latest
                newest = "SELECT thread_id, checkpoint_ns, max(checkpoint_id) FROM checkpoints GROUP BY 1, 2"
                for thread_id, ns, checkpoint_id in cur.execute(newest).fetchall():
                    _drop_older(cur, thread_id, ns, checkpoint_id)
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
            _drop_older(cur, where["thread_id"], where["checkpoint_ns"], where["checkpoint_id"])
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


def _drop_older(cur: sqlite3.Cursor, thread_id: str, ns: str, checkpoint_id: str) -> None:
    """Delete a thread's checkpoints older than this one, and their pending writes (ids sort by time)."""
    for table in ("writes", "checkpoints"):
        cur.execute(f"DELETE FROM {table} WHERE thread_id = ? AND checkpoint_ns = ? AND checkpoint_id < ?",
                    (thread_id, ns, checkpoint_id))
