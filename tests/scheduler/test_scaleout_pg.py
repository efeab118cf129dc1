"""Scale-out against a real PostgreSQL: two schedulers share one job store and each run happens once.

The test starts its own cluster (initdb + pg_ctl, Debian `postgresql`) in a temp dir on a free
loopback port, as the `postgres` user when run as root.
"""

from __future__ import annotations

import asyncio
import os
import pwd
import shutil
import subprocess
import tempfile
import threading
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from apscheduler.events import EVENT_JOB_EXECUTED, EVENT_JOB_SUBMITTED
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler
from ci import free_port, need
from scheduler_helpers import scripted_app
from sqlalchemy import create_engine, text

from persona.app import utc_now
from persona.home import Home
from persona.scheduler.lock import ClaimingExecutor, RunClaims
from persona.scheduler.service import jobs_db_url, start_scheduler, stop_scheduler

pytestmark = pytest.mark.integration

PG_BIN = Path("/usr/lib/postgresql/15/bin")
RUNS = 6


@pytest.fixture(scope="module")
def postgres_url() -> Iterator[str]:
    need(
        (PG_BIN / "initdb").exists(),
        f"PostgreSQL 15 server binaries not found in {PG_BIN} (Debian: apt-get install postgresql)",
    )
    as_root = os.geteuid() == 0
    if as_root:
        need(_has_user("postgres"), "running as root needs the `postgres` user to own the cluster")
    root = Path(tempfile.mkdtemp(prefix="persona-pg-"))
    data, port = root / "data", free_port()
    if as_root:
        shutil.chown(root, "postgres", "postgres")
    prefix = ["runuser", "-u", "postgres", "--"] if as_root else []

    def run(*args: str) -> None:
        subprocess.run([*prefix, *args], check=True, capture_output=True, timeout=120)

    run(str(PG_BIN / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "--no-sync")
    run(
        str(PG_BIN / "pg_ctl"),
        "-D",
        str(data),
        "-l",
        str(root / "pg.log"),
        "-w",
        "-t",
        "60",
        "-o",
        f"-p {port} -k {root} -c listen_addresses=127.0.0.1 -c fsync=off",
        "start",
    )
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:{port}/postgres"
    finally:
        run(str(PG_BIN / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(root, ignore_errors=True)


def _has_user(name: str) -> bool:
    try:
        pwd.getpwnam(name)
    except KeyError:
        return False
    return True


def record_run(log: str, name: str) -> None:
    """The job of the race: one line per run that actually happened."""
    with open(log, "a", encoding="utf-8") as handle:
        handle.write(name + "\n")


class RacingStore(SQLAlchemyJobStore):
    """Both schedulers read the due jobs before either of them marks them run: the race made certain."""

    def __init__(self, barrier: threading.Barrier, **kwargs: object):
        super().__init__(**kwargs)
        self.barrier, self.raced = barrier, False

    def get_due_jobs(self, now):
        due = super().get_due_jobs(now)
        if due and not self.raced:
            self.raced = True
            self.barrier.wait(timeout=30)
        return due


def test_two_schedulers_on_one_postgres_store_run_each_job_run_once(
    postgres_url: str, tmp_path: Path
) -> None:
    engine = create_engine(postgres_url)
    log = tmp_path / "runs.log"
    past = datetime.now(UTC) - timedelta(seconds=5)
    loader = AsyncIOScheduler(jobstores={"default": SQLAlchemyJobStore(engine=engine, tablename="race_jobs")})

    async def load() -> None:
        loader.start(paused=True)
        for n in range(RUNS):
            loader.add_job(
                record_run,
                "interval",
                hours=1,
                args=[str(log), f"job-{n}"],
                id=f"race-{n}",
                next_run_time=past,
                misfire_grace_time=300,
                replace_existing=True,
            )
        loader.shutdown(wait=False)
        await asyncio.sleep(0)

    asyncio.run(load())
    barrier = threading.Barrier(2)
    submitted: list[str] = []
    executed: list[str] = []
    stop = threading.Event()

    def serve(name: str) -> None:  # one `persona serve` process: its own loop, scheduler and executor
        async def main() -> None:
            scheduler = AsyncIOScheduler(
                jobstores={
                    "default": RacingStore(barrier, engine=create_engine(postgres_url), tablename="race_jobs")
                },
                executors={"default": ClaimingExecutor(RunClaims(create_engine(postgres_url), owner=name))},
                job_defaults={"coalesce": True},
            )
            scheduler.add_listener(lambda e: submitted.append(e.job_id), EVENT_JOB_SUBMITTED)
            scheduler.add_listener(lambda e: executed.append(e.job_id), EVENT_JOB_EXECUTED)
            scheduler.start()
            await asyncio.to_thread(stop.wait, 30)
            scheduler.shutdown(wait=True)
            await asyncio.sleep(0)

        asyncio.run(main())

    servers = [threading.Thread(target=serve, args=(f"serve-{i}",)) for i in range(2)]
    for server in servers:
        server.start()
    deadline = datetime.now() + timedelta(seconds=30)
    while len(submitted) < 2 * RUNS and datetime.now() < deadline:
        stop.wait(0.05)
    stop.set()
    for server in servers:
        server.join(timeout=30)

    assert len(submitted) == 2 * RUNS  # both schedulers submitted every run: the race happened
    lines = log.read_text(encoding="utf-8").split()
    assert sorted(lines) == sorted(f"job-{n}" for n in range(RUNS))  # and each ran exactly once
    assert sorted(executed) == sorted(f"race-{n}" for n in range(RUNS))
    with engine.connect() as db:
        winners = db.execute(
            text("SELECT claimed_by, count(*) FROM persona_job_runs GROUP BY claimed_by")
        ).all()
    assert sum(count for _, count in winners) == RUNS


def test_service_on_postgres_shares_jobs_between_processes(
    postgres_url: str, home: Home, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("PERSONA_JOBS_DB_URL", postgres_url)
    first, _ = scripted_app(home, [], utc_now)
    second, _ = scripted_app(home, [], utc_now)
    assert jobs_db_url(first) == postgres_url

    async def both() -> tuple[list[str], list[str]]:
        a = start_scheduler(first)
        b = start_scheduler(second)
        ids = (sorted(j.id for j in a.get_jobs()), sorted(j.id for j in b.get_jobs()))
        await stop_scheduler(a, first)
        await stop_scheduler(b, second)
        return ids

    seen_by_a, seen_by_b = asyncio.run(both())
    assert seen_by_a == seen_by_b == ["persona:brief", "persona:calendar", "persona:inbox", "persona:upkeep"]
    with create_engine(postgres_url).connect() as db:
        stored = db.execute(text("SELECT id FROM apscheduler_jobs WHERE id LIKE 'persona:%'")).scalars().all()
    assert sorted(stored) == seen_by_a  # one copy of each job, however many processes serve
    assert not (home.root / "jobs.sqlite").exists()
