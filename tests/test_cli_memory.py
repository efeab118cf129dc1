"""Ingest, look at and forget memory from the command line: run ids, skip reasons, confirmation."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
from contextlib import closing
from datetime import datetime
from pathlib import Path

import pytest
from test_cli import PERSONA, home_and_notes, run


def test_ingest_names_its_run_and_skips_then_forget_takes_the_run_back(tmp_path: Path):
    home, notes = home_and_notes(tmp_path)
    (notes / "junk.mbox").write_bytes(b"\0" + os.urandom(50_000))
    (notes / "loop").symlink_to(notes)

    out = run(home, "ingest", str(notes)).stdout
    run_id = next(line.split()[2] for line in out.splitlines() if line.strip().startswith("ingest run"))
    assert f"{notes / 'junk.mbox'}: binary, not text (NUL bytes)" in out
    assert f"{notes / 'loop'}: read already (by another path or link)" in out
    assert f"persona forget --run {run_id}" in out

    sources = json.loads(run(home, "memory", "sources", "--json").stdout)
    assert [(s["source"], s["items"], s["runs"]) for s in sources] == [(str(notes / "plan.md"), 1, [run_id])]
    assert "plan.md" in run(home, "memory", "sources").stdout

    declined = run(home, "forget", "--run", run_id, check=False, stdin="n\n")
    assert declined.returncode == 1 and "Forget 1 items (run " in declined.stdout
    forgot = json.loads(run(home, "forget", "--run", run_id, "--yes", "--json").stdout)
    assert forgot == {"what": f"run {run_id}", "removed": 1}
    assert json.loads(run(home, "memory", "sources", "--json").stdout) == []

    again = run(home, "forget", "--source", str(notes / "plan.md"), "--yes", check=False)
    assert again.returncode == 1 and "nothing to forget (source " in again.stderr
    both = run(home, "forget", "abc", "--run", run_id, check=False)
    assert both.returncode == 2 and "exactly one of" in both.stderr
    from persona.store import StateStore

    audited = [(e.kind, e.subject) for e in StateStore(home / "state.sqlite").audit_entries()]
    assert audited == [
        ("ingest_started", run_id),
        ("ingested", run_id),
        ("memory_forgotten", f"run {run_id}"),
    ]


def test_doctor_names_items_of_a_run_that_never_finished(tmp_path: Path):
    from persona.app import App
    from persona.cli.doctor import Notice, _memory
    from persona.home import Home
    from persona.memory.ingest import ingest
    from persona.profile import Audience
    from persona.settings import Settings

    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    (tmp_path / "n.md").write_text("# Note\nThe boiler is serviced in May.\n")
    app = App(Home(home), Settings())
    app.store.audit("ingest_started", "owner", "20261207-090000-cafe", {})  # killed before "ingested"
    ingest(
        [tmp_path / "n.md"],
        store=app.memory,
        profile=app.profile,
        audience=Audience.OWNER,
        run="20261207-090000-cafe",
    )
    with pytest.raises(Notice) as found:
        _memory(app)
    first, *odd = str(found.value).splitlines()
    assert first.startswith("1 items (knowledge 1, exemplar 0, situation 0) from 1 sources")
    assert odd == ["run 20261207-090000-cafe never finished: `persona forget --run 20261207-090000-cafe`"]


def test_an_ingest_stopped_midway_is_named_by_doctor_until_forgotten(tmp_path: Path):
    """Ctrl-C during a long ingest: the items flushed so far stay, the run is audited as failed, doctor
    names it with the command that takes it back, and after that command names nothing."""
    from persona.app import App
    from persona.cli.doctor import Notice, _memory
    from persona.home import Home
    from persona.settings import Settings
    from persona.store import StateStore

    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    (tmp_path / "kept.md").write_text("# Kept\nThe boiler is serviced in May.\n")
    run(home, "ingest", str(tmp_path / "kept.md"))
    many = tmp_path / "many"
    many.mkdir()
    for i in range(6000):
        (many / f"n{i:04}.md").write_text(f"# Note {i}\nShelf {i} holds box {i * 7} of the archive.\n")
    # Ctrl-C's handler set first: a shell without job control starts background commands deaf to it
    hears_ctrl_c = (
        "import runpy, signal, sys; signal.signal(signal.SIGINT, signal.default_int_handler); "
        f"sys.argv = ['persona', 'ingest', {str(many)!r}]; runpy.run_module('persona', run_name='__main__')"
    )
    ingesting = subprocess.Popen(
        [sys.executable, "-c", hears_ctrl_c],
        env={**os.environ, "PERSONA_HOME": str(home)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    keywords = home / "memory" / "keywords.sqlite"
    deadline = time.monotonic() + 240
    while _indexed(keywords) < 100:  # its first batch is stored: the run has items
        assert ingesting.poll() is None and time.monotonic() < deadline, "ingest ended before it was stopped"
        time.sleep(0.05)
    ingesting.send_signal(signal.SIGINT)
    assert ingesting.wait(timeout=120) == 130
    failed = StateStore(home / "state.sqlite").audit_entries(kind="ingest_failed")
    assert len(failed) == 1 and failed[0].detail["error"].startswith("KeyboardInterrupt")
    run_id = failed[0].subject

    with pytest.raises(Notice) as found:
        _memory(App(Home(home), Settings()))
    assert f"run {run_id} failed (KeyboardInterrupt" in str(found.value)
    assert f"`persona forget --run {run_id}`" in str(found.value)
    run(home, "forget", "--run", run_id, "--yes")
    assert _memory(App(Home(home), Settings())).startswith("1 items (knowledge 1, exemplar 0, situation 0)")


def _indexed(keywords: Path) -> int:
    if not keywords.exists():
        return 0
    with closing(sqlite3.connect(keywords, timeout=5)) as db:
        try:
            return db.execute("SELECT count(*) FROM items").fetchone()[0]
        except sqlite3.OperationalError:  # the table is not there yet
            return 0


def test_doctor_names_binary_text_and_a_document_of_too_many_chunks(tmp_path: Path, monkeypatch):
    from persona.app import App
    from persona.cli.doctor import Notice, _memory
    from persona.home import Home
    from persona.memory import health
    from persona.settings import Settings

    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    notes = tmp_path / "notes"
    notes.mkdir()
    # text for its first KB (so ingest's sniff lets it in), then junk
    (notes / "half.txt").write_bytes(
        b"# Log\n" + b"The pump was checked. " * 60 + b"\n\n" + os.urandom(20_000)
    )
    (notes / "long.md").write_text(
        "# Long\n"
        + "\n\n".join(
            f"Paragraph {i} of the long manual says {i * 3} about valves, gaskets and the pressure test." * 8
            for i in range(60)
        )
    )
    (notes / "fine.md").write_text("# Fine\nThe boiler is serviced in May.\n")
    run(home, "ingest", str(notes))
    monkeypatch.setattr(health, "MANY_CHUNKS", 20)
    app = App(Home(home), Settings())
    with pytest.raises(Notice) as found:
        _memory(app)
    odd = str(found.value).splitlines()[1:]
    assert len(odd) == 2, odd
    assert odd[0].endswith(
        f" items of {notes / 'half.txt'} read as binary data: `persona forget --source {notes / 'half.txt'}`"
    )
    assert odd[1].startswith(f"one document of {notes / 'long.md'} is ") and "(over 20)" in odd[1]
    run(home, "forget", "--source", str(notes / "half.txt"), "--yes")
    run(home, "forget", "--source", str(notes / "long.md"), "--yes")
    assert _memory(App(Home(home), Settings())).startswith("1 items")


def test_doctor_says_a_running_server_keeps_the_schedule_it_started_with(tmp_path: Path):
    import asyncio

    from persona.app import App
    from persona.cli.doctor import Notice, _schedule
    from persona.home import Home
    from persona.settings import Settings

    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com", "--timezone", "Europe/Berlin")
    app = App(Home(home), Settings())
    assert _schedule(app) == "no `persona serve` has run on this home yet"

    async def served_once() -> None:  # what `persona serve` does with the job store at its start
        from persona.scheduler.service import start_scheduler, stop_scheduler

        await stop_scheduler(start_scheduler(app), app)

    asyncio.run(served_once())
    assert _schedule(app) == "4 jobs, as persona.yaml says"
    profile = home / "persona.yaml"
    profile.write_text(profile.read_text() + "schedule:\n  daily_brief_at: '06:45'\n")
    with pytest.raises(Notice) as found:
        _schedule(App(Home(home), Settings()))
    assert "daily brief at 06:45 Europe/Berlin" in str(found.value) and "when it next starts" in str(
        found.value
    )


def test_forget_by_date_asks_then_takes_what_is_dated_before_or_since(tmp_path: Path):
    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    notes = tmp_path / "notes"
    notes.mkdir()
    for name, saved in (("old.md", "2024-03-01T12:00:00+00:00"), ("new.md", "2026-03-01T12:00:00+00:00")):
        (notes / name).write_text(f"# {name}\nThe engine review note {name} says Friday.\n")
        stamp = datetime.fromisoformat(saved).timestamp()
        os.utime(notes / name, (stamp, stamp))  # a note is dated by its last save
    run(home, "ingest", str(notes))

    declined = run(home, "forget", "--before", "2025-01-01", check=False, stdin="n\n")
    assert declined.returncode == 1 and "Forget 1 items (dated before 2025-01-01)?" in declined.stdout
    forgot = json.loads(run(home, "forget", "--before", "2025-01-01", "--yes", "--json").stdout)
    assert forgot == {"what": "dated before 2025-01-01", "removed": 1}
    assert [s["source"] for s in json.loads(run(home, "memory", "sources", "--json").stdout)] == [
        str(notes / "new.md")
    ]
    nothing = run(home, "forget", "--since", "2026-04-01", "--yes", check=False)
    assert nothing.returncode == 1 and "nothing to forget (dated since 2026-04-01)" in nothing.stderr

    for wrong in (
        ["--before", "2025-13-01"],
        ["--since", "2026-01-01", "--before", "2025-01-01"],
        ["--before", "2025-01-01", "--run", "x"],
    ):
        refused = run(home, "forget", *wrong, "--yes", check=False)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert (
        "Forgot 1 items (dated since 2026-01-01)."
        in run(home, "forget", "--since", "2026-01-01", "--yes").stdout
    )


def test_doctor_exits_1_when_a_check_fails(tmp_path: Path):
    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    checked = subprocess.run(
        [*PERSONA, "doctor"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
        env={
            **os.environ,
            "PERSONA_HOME": str(home),
            "COLUMNS": "200",
            "PERSONA_LLM_BASE_URL": "http://127.0.0.1:9/v1",
        },
    )  # nothing listens there
    assert checked.returncode == 1, checked.stdout + checked.stderr  # typer returned the code; it was exit 0
    assert "memory is empty" in checked.stdout and "schedule" in checked.stdout
