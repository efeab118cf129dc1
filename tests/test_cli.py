"""The CLI as a user meets it: one-line errors, no tracebacks, idempotent ingest."""

from __future__ import annotations

import ast
import json
import logging
import os
import re
import subprocess
import sys
import warnings
from pathlib import Path

import pytest

from persona.events import Action, ActionKind, Decision, Principal, Verdict
from persona.home import Home
from persona.profile import Profile
from persona.store import StateStore

PERSONA = [sys.executable, "-m", "persona"]
ROOT = Path(__file__).resolve().parents[1]


def run(
    home: Path, *args: str, check: bool = True, columns: int = 200, stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PERSONA_HOME": str(home), "COLUMNS": str(columns)}
    proc = subprocess.run(
        [*PERSONA, *args], check=False, capture_output=True, text=True, env=env, timeout=300, input=stdin
    )
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


def home_and_notes(tmp_path: Path) -> tuple[Path, Path]:
    """Ada's new home, and a folder of notes to ingest holding one plan."""
    home = tmp_path / "h"
    run(home, "init", "--name", "Ada Lovelace", "--email", "ada@example.com")
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("# Plan\nThe engine review is on Friday with Charles.\n")
    return home, notes


def test_ingest_twice_adds_nothing_and_reports_skips(tmp_path: Path):
    home, notes = home_and_notes(tmp_path)
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


@pytest.mark.parametrize(
    "args", [["--help"], ["ingest", "--help"], ["approvals", "--help"], ["model", "--help"]]
)
def test_help_explains(tmp_path: Path, args):
    out = run(tmp_path, *args).stdout
    assert "Usage" in out and len(out.splitlines()) > 5


@pytest.mark.parametrize(
    "args",
    [
        ["nosuchcmd"],
        ["invite"],
        ["audit", "--limit", "x"],
        ["approvals", "--bogus"],
        ["init", "--name", "Ada", "--email", "not-an-address"],
    ],
)
def test_a_usage_mistake_is_one_line_with_exit_code_2(tmp_path: Path, args):
    proc = run(tmp_path, *args, check=False)
    output = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode == 2 and len(output) == 1, proc.stdout + proc.stderr
    assert "Traceback" not in output[0] and "--help" in output[0]


def _queue_approval(home: Home, profile: Profile, target: str) -> str:
    """A send waiting for the owner, as the gate would queue it."""
    action = Action(
        kind=ActionKind.SEND_MAIL,
        requested_by=Principal.owner(profile),
        targets=[target],
        summary=f"send reply to {target}: Re: Rollback on Sunday – what's my part in the cutover plan?",
    )
    StateStore(home.state_db).enqueue_approval(
        action, Decision(verdict=Verdict.APPROVE, reason="a colleague's mail")
    )
    return action.id


def test_approvals_list_exists_and_lists(home: Home, profile: Profile):
    approval_id = _queue_approval(home, profile, "sam@northwind.example")
    listed = run(home.root, "approvals", "list")
    assert approval_id[:8] in listed.stdout
    assert approval_id in run(home.root, "approvals", "list", "--all", "--json").stdout


def test_tables_fit_80_columns_without_cutting_ids_or_addresses(home: Home, profile: Profile):
    long_address = "konstantin.wojciechowski@northwind.example"
    approval_id = _queue_approval(home, profile, long_address)
    narrow = run(home.root, "approvals", columns=80).stdout
    assert max(len(line) for line in narrow.splitlines()) <= 80
    assert approval_id[:8] in narrow and long_address in narrow and "…" not in narrow
    wide = run(home.root, "approvals", "--wide", columns=80).stdout
    assert "why it waits" in wide and max(len(line) for line in wide.splitlines()) <= 80


def test_inbox_table_at_80_columns_keeps_whole_words(tmp_path: Path):
    from rich.console import Console

    from persona.agent.inbox import InboxReport, MailOutcome
    from persona.cli.render import inbox_table

    report = InboxReport(
        outcomes=[
            MailOutcome(
                message_id="<2396de7df2a3f564b0d6@northwind.example>",
                sender="tomasz.nowak@northwind.example",
                subject="Time to go over the cutover?",
                label="respond",
                reason="a direct question from a colleague",
                did="draft saved; send awaits approval 25be2bd5",
            )
        ]
    )
    console = Console(width=80, record=True, file=(tmp_path / "out.txt").open("w"))
    console.print(inbox_table(report))
    text = console.export_text()
    assert max(len(line) for line in text.splitlines()) <= 80 and "…" not in text
    assert "Time to go over the" in text and "25be2bd5" in text  # wrapped in phrases, not a word a line
    assert "<2396de7df2a3f564b0d6@northwind.example>" in text  # whole: `inbox correct` needs it


def test_jobs_and_usage_print_json(home: Home):
    jobs = json.loads(run(home.root, "jobs", "--json").stdout)
    assert {job["id"] for job in jobs} >= {"persona:inbox", "persona:brief"}
    assert all(job["scheduled"] is False and job["next_run"] for job in jobs)  # no `persona serve` yet
    assert json.loads(run(home.root, "usage", "--json").stdout) == []


def _named_commands() -> set[str]:
    """Every `persona ...` a user is told to run: in README.md, and in the strings the code prints (not
    in docstrings, which are for developers)."""
    texts = [(ROOT / "README.md").read_text(encoding="utf-8")]
    for path in (ROOT / "persona").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        docstrings = {
            id(node.body[0].value)
            for node in ast.walk(tree)
            if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef)
            and node.body
            and isinstance(node.body[0], ast.Expr)
        }
        texts += [
            node.value
            for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str) and id(node) not in docstrings
        ]
    mention = re.compile(r"(?:^|`)persona((?: [a-z][a-z-]*){1,2})", re.MULTILINE)
    return {"persona" + m.group(1) for text in texts for m in mention.finditer(text)}


def test_every_command_the_program_names_exists():
    import typer.main

    from persona.cli import _register, cli

    if not cli.registered_commands:
        _register()
    root = typer.main.get_command(cli)
    missing = []
    for named in _named_commands():
        command = root
        for word in named.split()[1:]:
            subcommands = getattr(command, "commands", None)
            if subcommands is None:
                break  # a command: the rest are its arguments
            if word not in subcommands:  # after a group, a word is always read as a command name
                missing.append(named)
                break
            command = subcommands[word]
    assert not missing, missing


@pytest.mark.parametrize("verbose", [False, True])
def test_library_chatter_only_with_verbose(caplog, verbose: bool):
    from persona.cli.quiet import library_output

    with warnings.catch_warnings(record=True) as seen, caplog.at_level(logging.WARNING):
        warnings.simplefilter("always")
        with library_output(verbose):
            logging.getLogger().warning("Please consider to run pre-processing before quantization")
            warnings.warn("a library's advice", FutureWarning, stacklevel=1)
    assert bool(seen) is verbose and bool(caplog.records) is verbose
