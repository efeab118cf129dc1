"""Ingest, look at and forget memory from the command line: run ids, skip reasons, confirmation."""

from __future__ import annotations

import json
import os
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
    assert again.returncode == 1 and "nothing in memory from source" in again.stderr
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
