"""The run-claim lock on the default SQLite job store, and `persona jobs`."""

from __future__ import annotations

import asyncio
import threading
from datetime import UTC, datetime, timedelta, timezone

from scheduler_helpers import persona_cli, scripted_app
from sqlalchemy import create_engine
from typer.testing import CliRunner

from persona.app import utc_now
from persona.home import Home
from persona.scheduler import jobs
from persona.scheduler.lock import RunClaims
from persona.scheduler.service import start_scheduler, stop_scheduler

RUN = datetime(2026, 11, 30, 7, 30, tzinfo=timezone(timedelta(hours=1)))


def test_one_claim_per_job_run(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    first, second = RunClaims(create_engine(url), owner="a"), RunClaims(create_engine(url), owner="b")
    assert first.claim("persona:brief", RUN)
    assert not second.claim("persona:brief", RUN.astimezone(UTC))  # the same instant, other zone
    assert second.claim("persona:brief", RUN + timedelta(days=1))
    assert second.claim("persona:inbox", RUN)


def test_concurrent_claims_have_one_winner(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'jobs.sqlite'}"
    claims = [RunClaims(create_engine(url, connect_args={"timeout": 30}), owner=f"p{i}") for i in range(8)]
    start, won = threading.Barrier(len(claims)), []

    def race(c: RunClaims) -> None:
        start.wait()
        if c.claim("persona:upkeep", RUN):
            won.append(c.owner)

    threads = [threading.Thread(target=race, args=(c,)) for c in claims]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(won) == 1


def test_jobs_command_lists_jobs_with_next_runs(home: Home) -> None:
    result = CliRunner().invoke(persona_cli(), ["--home", str(home.root), "jobs"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    for job_id in ("persona:inbox", "persona:calendar", "persona:brief", "persona:upkeep"):
        assert job_id in result.output
    brief_line = next(line for line in result.output.splitlines() if "persona:brief" in line)
    assert "daily brief at 07:30 Europe/Berlin" in brief_line and "07:30 CET" in brief_line
    assert "starts with `persona serve`" in brief_line


def test_jobs_command_shows_stored_runs_once_served(home: Home) -> None:
    app, _ = scripted_app(home, [], utc_now)

    async def serve_once() -> None:
        scheduler = start_scheduler(app)
        await stop_scheduler(scheduler, app)

    asyncio.run(serve_once())
    result = CliRunner().invoke(persona_cli(), ["--home", str(home.root), "jobs"], env={"COLUMNS": "200"})
    assert result.exit_code == 0, result.output
    assert all("scheduled" in line for line in result.output.splitlines() if "persona:" in line)


def test_server_lifespan_runs_the_scheduler(home: Home) -> None:
    from fastapi.testclient import TestClient

    from persona.scheduler.service import scheduler_lifespan
    from persona.server import ServerConfig, create_app

    app, _ = scripted_app(home, [], utc_now)
    api = create_app(app, config=ServerConfig(warm_up=False), lifespan_hooks=[scheduler_lifespan])
    with TestClient(api, base_url="http://127.0.0.1") as client:
        assert client.get("/health").status_code == 200
        assert jobs.APPS.get(str(home.root)) is app  # jobs of this home use the server's App
    result = CliRunner().invoke(persona_cli(), ["--home", str(home.root), "jobs"], env={"COLUMNS": "200"})
    assert sum("scheduled" in line for line in result.output.splitlines()) == 4
