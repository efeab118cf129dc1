"""Scale-out: several `persona serve` processes may share one job store; each job run happens once.

APScheduler 3 does not coordinate schedulers: every process that sees a job due submits it. Before a
run starts, the executor claims it with an INSERT of (job id, scheduled run time) into a table next to
the jobs; the primary key lets exactly one process win, on SQLite and PostgreSQL alike, with no
session-bound lock to leak when a process dies mid-run.
"""

from __future__ import annotations

import os
import socket
from datetime import UTC, datetime

from apscheduler.executors.base import run_job
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.job import Job
from sqlalchemy import Column, MetaData, String, Table, insert, inspect
from sqlalchemy.engine import Engine
from sqlalchemy.exc import DBAPIError, IntegrityError

CLAIMS_TABLE = "persona_job_runs"


def process_name() -> str:
    return f"{socket.gethostname()}:{os.getpid()}"


def create_once(engine: Engine, table: Table) -> None:
    """CREATE TABLE IF NOT EXISTS that survives two processes starting at once (PostgreSQL's check and
    create are not atomic: the loser gets a unique violation on the catalog)."""
    try:
        table.create(engine, checkfirst=True)
    except DBAPIError:
        if not inspect(engine).has_table(table.name, schema=table.schema):
            raise


class RunClaims:
    """One row per job run: whoever inserts it first runs it."""

    def __init__(self, engine: Engine, owner: str | None = None):
        self.engine = engine
        self.owner = owner or process_name()
        self.table = Table(
            CLAIMS_TABLE,
            MetaData(),
            Column("job_id", String(191), primary_key=True),
            Column("run_time", String(40), primary_key=True),  # ISO UTC: same text on every dialect
            Column("claimed_by", String(200), nullable=False),
            Column("claimed_at", String(40), nullable=False),
        )
        create_once(engine, self.table)

    def claim(self, job_id: str, run_time: datetime) -> bool:
        """True for the one caller that gets this run; False for every other (process or thread)."""
        row = {
            "job_id": job_id,
            "run_time": run_time.astimezone(UTC).isoformat(),
            "claimed_by": self.owner,
            "claimed_at": datetime.now(UTC).isoformat(),
        }
        try:
            with self.engine.begin() as db:
                db.execute(insert(self.table).values(**row))
        except IntegrityError:
            return False
        return True


class ClaimingExecutor(ThreadPoolExecutor):
    """A thread pool that runs only the run times this process claimed (blocking work stays off the loop)."""

    def __init__(self, claims: RunClaims, max_workers: int = 4):
        super().__init__(max_workers)
        self.claims = claims

    def _do_submit_job(self, job: Job, run_times: list[datetime]) -> None:
        def claimed_run() -> list:
            mine = [t for t in run_times if self.claims.claim(job.id, t)]
            return run_job(job, job._jobstore_alias, mine, self._logger.name) if mine else []

        def done(future) -> None:  # mirrors BasePoolExecutor: events back to the scheduler
            exc = future.exception()
            if exc is not None:
                self._run_job_error(job.id, exc, exc.__traceback__)
            else:
                self._run_job_success(job.id, future.result())

        self._pool.submit(claimed_run).add_done_callback(done)
