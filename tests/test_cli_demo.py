"""`persona demo` as a reader sees it in an 80-column terminal: every step it prints (memory, questions, the
inbox and approvals tables, delegation, the brief), with a scripted model instead of the local one."""

from __future__ import annotations

import io

import pytest
from rich.console import Console
from scripted_mail import inbox_pass

from persona.app import App
from persona.cli import render
from persona.cli.demo import DEFAULT_DATA, DEMO_NOW, run_demo
from persona.cli.quiet import library_output
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.settings import Settings

_answer = inbox_pass("Thanks, I'll look at this today.\n\nDana")  # every call of the demo


def _kept_together(lines: list[str], value: str) -> bool:
    """A cell's first two words share a line: the column was not squeezed to a word per line."""
    words = value.split()
    return len(words) < 2 or any(f"{words[0]} {words[1]}" in line for line in lines)


def test_the_demo_reads_at_80_columns_and_libraries_stay_quiet(
    tmp_path, monkeypatch: pytest.MonkeyPatch, capfd
):
    shown: dict[str, list[str]] = {"inbox": [], "approvals": []}

    def inbox_table(report, wide=False):  # the real tables; what went into their cells is noted
        shown["inbox"] += [text for o in report.outcomes for text in (o.subject, o.did)]
        return real_inbox(report, wide)

    def approvals_table(items, wide=False):
        shown["approvals"] += [a.action.summary for a in items]
        return real_approvals(items, wide)

    real_inbox, real_approvals = render.inbox_table, render.approvals_table
    monkeypatch.setattr(render, "inbox_table", inbox_table)
    monkeypatch.setattr(render, "approvals_table", approvals_table)
    out = io.StringIO()
    model = ScriptedChatModel(replies=[_answer] * 200)
    with library_output(verbose=False):  # as every command runs without --verbose; the model loads in here
        app = App(
            Home(tmp_path / "home").ensure(), Settings(), llm=LLM(model, local=True), clock=lambda: DEMO_NOW
        )
        assert run_demo(app, DEFAULT_DATA, Console(file=out, width=80)) == 0

    lines = out.getvalue().splitlines()
    assert max(len(line) for line in lines) <= 80
    assert (
        len(shown["inbox"]) > 40 and len(shown["approvals"]) > 5
    )  # the demo's inbox: 27 mails, a dozen drafts
    squeezed = [text for texts in shown.values() for text in texts if not _kept_together(lines, text)]
    assert squeezed == []
    for heading in ("1. Memory", "3. The inbox", "4. Waiting for the owner's approval", "6. The daily brief"):
        assert any(heading in line for line in lines)
    # nothing from a library reached the terminal: no warnings, log lines or progress bars
    assert capfd.readouterr().err == ""
