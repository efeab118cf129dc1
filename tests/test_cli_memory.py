"""Ingest, look at and forget memory from the command line: run ids, skip reasons, confirmation."""

from __future__ import annotations

import json
import os
from datetime import datetime
from pathlib import Path

from test_cli import run


def test_ingest_names_its_run_and_skips_then_forget_takes_the_run_back(tmp_path: Path):
    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("# Plan\nThe engine review is on Friday with Charles.\n")
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
    assert audited == [("ingest_started", run_id), ("ingested", run_id), ("memory_forgotten", f"run {run_id}")]


def test_doctor_names_items_of_a_run_that_never_finished(tmp_path: Path):
    from persona.app import App
    from persona.cli.doctor import _memory
    from persona.home import Home
    from persona.memory.ingest import ingest
    from persona.profile import Audience
    from persona.settings import Settings

    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    (tmp_path / "n.md").write_text("# Note\nThe boiler is serviced in May.\n")
    app = App(Home(home), Settings())
    app.store.audit("ingest_started", "owner", "20261207-090000-cafe", {})  # killed before "ingested"
    ingest([tmp_path / "n.md"], store=app.memory, profile=app.profile, audience=Audience.OWNER,
           run="20261207-090000-cafe")
    detail = _memory(app)
    assert detail.startswith("1 items (knowledge 1, exemplar 0, situation 0) from 1 sources")
    assert "`persona forget --run 20261207-090000-cafe`" in detail


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
    assert [s["source"] for s in json.loads(run(home, "memory", "sources", "--json").stdout)] == [str(notes / "new.md")]
    nothing = run(home, "forget", "--since", "2026-04-01", "--yes", check=False)
    assert nothing.returncode == 1 and "nothing to forget (dated since 2026-04-01)" in nothing.stderr

    for wrong in (["--before", "2025-13-01"], ["--since", "2026-01-01", "--before", "2025-01-01"],
                  ["--before", "2025-01-01", "--run", "x"]):
        refused = run(home, "forget", *wrong, "--yes", check=False)
        assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert "Forgot 1 items (dated since 2026-01-01)." in run(home, "forget", "--since", "2026-01-01", "--yes").stdout
