"""The CLI as a user meets it: one-line errors, no tracebacks, idempotent ingest."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

PERSONA = [sys.executable, "-m", "persona"]


def run(home: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERSONA_HOME": str(home), "COLUMNS": "200"}
    proc = subprocess.run([*PERSONA, *args], check=False, capture_output=True, text=True, env=env, timeout=300)
    if check:
        assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc


def test_init_then_bad_edit_gives_one_line_naming_the_field(tmp_path: Path):
    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com", "--timezone", "Europe/London")
    assert (home / "persona.yaml").exists()
    again = run(home, "init", "--name", "Ada", "--email", "ada@example.com", check=False)
    assert again.returncode == 1 and "--force" in again.stderr

    text = (home / "persona.yaml").read_text().replace("timezone: Europe/London", "timezone: Nowhere/Land")
    (home / "persona.yaml").write_text(text)
    bad = run(home, "approvals", check=False)
    assert bad.returncode == 1
    assert "owner.timezone" in bad.stderr and "Traceback" not in bad.stderr + bad.stdout


def test_commands_before_init_say_what_to_do(tmp_path: Path):
    proc = run(tmp_path / "empty", "approvals", check=False)
    assert proc.returncode == 1 and "persona init" in proc.stderr and "Traceback" not in proc.stderr


def test_ingest_twice_adds_nothing_and_reports_skips(tmp_path: Path):
    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("# Plan\nThe engine review is on Friday with Charles.\n")
    (notes / "broken.eml").write_bytes(b"")
    first = run(home, "ingest", str(notes), "--audience", "team")
    assert "chunks added" in first.stdout and "skipped" in first.stdout
    second = run(home, "ingest", str(notes), "--audience", "team")
    line = next(l for l in second.stdout.splitlines() if "chunks added" in l)
    assert line.split()[-1] == "0"


def test_audit_verify_reports_tampering(tmp_path: Path):
    import sqlite3

    from persona.store import StateStore

    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    store = StateStore(home / "state.sqlite")
    store.audit("decision", "ada@example.com", "send_mail", {"verdict": "run"})
    store.audit("executed", "twin", "send_mail", {"receipt": "ok"})
    assert "intact: 2 entries" in run(home, "audit", "--verify").stdout
    with sqlite3.connect(home / "state.sqlite") as db:
        db.execute("UPDATE audit SET actor = 'someone-else' WHERE seq = 1")
    proc = run(home, "audit", "--verify", check=False)
    assert proc.returncode == 1 and "tampered" in proc.stderr


@pytest.mark.parametrize("args", [["--help"], ["ingest", "--help"], ["approvals", "--help"], ["model", "--help"]])
def test_help_explains(tmp_path: Path, args):
    out = run(tmp_path, *args).stdout
    assert "Usage" in out and len(out.splitlines()) > 5


@pytest.mark.parametrize("args", [["nosuchcmd"], ["invite"], ["audit", "--limit", "x"], ["approvals", "--bogus"]])
def test_a_usage_mistake_is_one_line_with_exit_code_2(tmp_path: Path, args):
    proc = run(tmp_path, *args, check=False)
    output = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode == 2 and len(output) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in output[0] and "--help" in output[0]
