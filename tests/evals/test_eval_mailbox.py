"""The reply eval on any person's mailbox folder: CMU-style RFC 822 files, Enron quoting, the owner's
habits, and `eval replies --mailbox` end to end with a scripted model (the decision rules on real-reply
phrasing are tested with the others, in test_replies.py). Every mail here is written for the test."""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from pathlib import Path

import pytest
import typer
from langchain_core.messages import BaseMessage
from typer.testing import CliRunner

from persona.app import App
from persona.channels.email.base import IncomingMail
from persona.channels.email.mailparse import parse_mail
from persona.cli.measure import replies_command
from persona.evals.mailbox import _plain_name, owner_name, triage_cases, unanswered
from persona.evals.replies import Pair, _quoted_original, decision_of, habits_of, own_text
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.memory.loaders import Document, iter_documents
from persona.settings import Settings
from persona.skills.triage import Label, Triage

OWNER = "pat.moreno@acme.example"
SPLIT = datetime(2001, 3, 1, tzinfo=UTC)


def cmu_file(
    path: Path, *, sender: str, to: str, date: str, subject: str, body: str, mid: str, x_from: str = ""
) -> None:
    """One message the way the CMU Enron files are laid out: headers, blank line, body; named `N.`."""
    path.parent.mkdir(parents=True, exist_ok=True)
    head = (
        f"Message-ID: <{mid}@acme.example>\nDate: {date}\nFrom: {sender}\nTo: {to}\nSubject: {subject}\n"
        f"Mime-Version: 1.0\nContent-Type: text/plain; charset=us-ascii\nContent-Transfer-Encoding: 7bit\n"
        f"X-From: {x_from}\nX-Folder: \\Pat_Moreno\\{path.parent.name}\n"
    )
    path.write_text(f"{head}\n{body}", encoding="utf-8")


def notes_reply(reply: str, author: str, when: str, subject: str, original: str) -> str:
    """A reply over a Lotus Notes quote: "<name> on <date>" then To/cc/Subject, then the original."""
    return (
        f"{reply}\n\n\n\n\n{author} on {when}\nTo: chris.lane@acme.example\ncc:  \nSubject: {subject}\n\n\n"
        f"{original}\n"
    )


def write_mailbox(root: Path) -> Path:
    box = root / "moreno-p"
    early = [  # before the split: what the twin may learn from
        (
            "1.",
            "Mon, 10 Jan 2000 09:00:00 -0800",
            "Quarterly review",
            "Can Chris join the quarterly review on the 20th?",
            "Chris will attend.\n\nPat",
        ),
        (
            "2.",
            "Tue, 11 Jan 2000 09:00:00 -0800",
            "Gala dinner",
            "Would Chris speak at our gala dinner in May?",
            "Unfortunately, Chris will not be able to attend.\n\nPat",
        ),
        (
            "3.",
            "Wed, 12 Jan 2000 09:00:00 -0800",
            "Newsletter",
            "Here is our weekly energy newsletter.",
            "Please remove Chris from your distribution list.\n\nPat",
        ),
    ]
    late = [  # after the split: held out
        (
            "4.",
            "Mon, 05 Mar 2001 09:00:00 -0800",
            "Board call",
            "Is Chris available for the board call on Friday?",
            "Chris will be out of town that day.\n\nPat",
        ),
        (
            "5.",
            "Tue, 06 Mar 2001 09:00:00 -0800",
            "Charity run",
            "Would Chris sponsor our charity run again?",
            "Chris is happy to do so again this year.\n\nPat",
        ),
    ]
    for name, date, subject, original, reply in early + late:
        cmu_file(
            box / "sent" / name,
            sender=OWNER,
            to="sam.ortiz@partner.example",
            date=date,
            subject=f"Re: {subject}",
            mid=f"sent{name}",
            x_from="Moreno, Pat",
            body=notes_reply(
                reply, "Sam Ortiz <sam.ortiz@partner.example>", "01/09/2000 10:00:00 AM", subject, original
            ),
        )
    cmu_file(
        box / "inbox" / "1.",
        sender="news@letters.example",
        to="chris.lane@acme.example",
        date="Mon, 05 Mar 2001 10:00:00 -0800",
        subject="Weekly market letter",
        mid="in1",
        body="This week in energy markets: prices rose.",
    )
    cmu_file(
        box / "inbox" / "2.",
        sender="sam.ortiz@partner.example",
        to="chris.lane@acme.example",
        date="Mon, 05 Mar 2001 08:00:00 -0800",
        subject="Board call",
        mid="in2",
        body="Is Chris available for the board call on Friday?",
    )
    return box


# --- reading the mailbox ----------------------------------------------------------------------------


def test_cmu_files_named_with_a_trailing_dot_are_read_as_mail(tmp_path: Path) -> None:
    box = write_mailbox(tmp_path)
    docs = [d for d in iter_documents(box) if isinstance(d, Document)]
    assert len(docs) == 7 and all(d.kind == "mail" for d in docs)
    assert {d.author for d in docs if "sent" in d.source} == {OWNER}


@pytest.mark.parametrize(
    ("raw", "name"),
    [
        ("Moreno, Pat", "Pat Moreno"),
        ("Pat Moreno/HOU/ACME", "Pat Moreno"),
        ("'Pat Moreno'", "Pat Moreno"),
        ("pat.moreno@acme.example", ""),
        ("", ""),
    ],
)
def test_plain_name_handles_directory_style_names(raw: str, name: str) -> None:
    assert _plain_name(raw) == name


def test_owner_name_from_x_from_else_from_the_address(tmp_path: Path) -> None:
    docs = [d for d in iter_documents(write_mailbox(tmp_path)) if isinstance(d, Document)]
    assert owner_name(docs, [OWNER]) == "Pat Moreno"  # the From headers carry no name: X-From does
    assert owner_name([], ["rosa.fleet@example.com"]) == "Rosa Fleet"


# --- Enron-style quoting ----------------------------------------------------------------------------


def test_quoted_original_reads_a_lotus_notes_quote(tmp_path: Path) -> None:
    box = write_mailbox(tmp_path)
    author, text = _quoted_original(str(box / "sent" / "2."))
    assert author == "sam.ortiz@partner.example"
    assert text == "Would Chris speak at our gala dinner in May?"


def test_quoted_original_reads_an_original_message_block(tmp_path: Path) -> None:
    path = tmp_path / "1."
    cmu_file(
        path,
        sender=OWNER,
        to="kim@vendor.example",
        date="Mon, 05 Mar 2001 09:00:00 -0800",
        subject="RE: Visit",
        mid="x",
        body="Chris can meet you on Tuesday.\n\n -----Original Message-----\nFrom: \tKim Vendor "
        "<kim@vendor.example>\nSent:\tFriday, March 02, 2001 4:12 PM\nTo:\tLane, Chris\n"
        "Subject:\tVisit\n\nCould Chris meet us next week?\n",
    )
    assert _quoted_original(str(path)) == ("kim@vendor.example", "Could Chris meet us next week?")


@pytest.mark.parametrize(
    "history",
    [
        "Sam Ortiz <sam@partner.example> on 03/19/2001 09:39:59 AM\nTo: chris@acme.example\nSubject: Call\n\nCan he call?",
        "Sam Ortiz@PARTNER\n01/19/2000 06:52 AM\n\nTo: Chris Lane/Corp/Acme@ACME\nSubject: Call\n\nCan he call?",
        "---------------------- Forwarded by Pat Moreno/Corp/Acme on 01/19/2000 ---------------------------\n\nCan he call?",
        "From:  Sam Ortiz @ PARTNER                           08/09/2000 09:43 PM\n\nCan he call?",
    ],
)
def test_own_text_stops_where_quoted_history_starts(history: str) -> None:
    assert (
        own_text(f"Chris will call you Monday.\n\nPat\n\n\n{history}") == "Chris will call you Monday.\n\nPat"
    )


# --- decisions and habits ---------------------------------------------------------------------------


def test_decision_ignores_the_quoted_history() -> None:
    text = notes_reply(
        "Chris will attend.\n\nPat",
        "Sam Ortiz <s@p.example>",
        "01/09/2000 10:00:00 AM",
        "Review",
        "Please forward this to your team; we regret the late notice.",
    )
    assert decision_of(text) == "accept"


def test_habits_sign_off_and_length() -> None:
    habits = habits_of(
        [
            "Chris will attend.\n\nPat",
            "Chris will not be able to attend.\n\nPat",
            "Thanks.\n\nPat",
            "Chris is out this week and will call you on Monday morning.\n\nPat",
        ]
    )
    assert habits.signs and habits.closings == ["pat"]
    assert habits.signoff_ok("Chris will attend.\n\nPat") and not habits.signoff_ok(
        "Chris will attend.\n\nBest regards,\nPatricia"
    )
    assert not habits.signoff_ok("Chris will attend.")
    assert habits.length_ok("Chris will attend the review.") and not habits.length_ok(" ".join(["word"] * 40))
    unsigned = habits_of(["Yes.", "No thanks.", "Fine by me.\n\nPat"])
    assert (
        not unsigned.signs
        and unsigned.signoff_ok("Yes, fine.")
        and not unsigned.signoff_ok("Yes, fine.\n\nPat")
    )


def test_unanswered_mail_excludes_what_the_owner_answered_and_what_came_after_their_last_reply(
    tmp_path: Path,
) -> None:
    docs = [d for d in iter_documents(write_mailbox(tmp_path)) if isinstance(d, Document)]
    left = unanswered(docs, [OWNER], SPLIT)
    assert [d.subject for d in left] == ["Weekly market letter"]  # the board call was answered ("Re:" to Sam)
    cmu_file(
        tmp_path / "moreno-p" / "sent_items" / "9.",
        sender="chris.lane@acme.example",
        to="x@y.example",
        date="Mon, 05 Mar 2001 11:00:00 -0800",
        subject="Dinner",
        mid="s9",
        body="See you at dinner.",
    )
    docs = [d for d in iter_documents(tmp_path / "moreno-p") if isinstance(d, Document)]
    assert [d.subject for d in unanswered(docs, [OWNER], SPLIT)] == [
        "Weekly market letter"
    ]  # outgoing, not left
    assert (
        unanswered(docs, [OWNER], datetime(2001, 3, 7, tzinfo=UTC)) == []
    )  # after Pat's last reply: unknown
    pair = Pair.model_validate(
        {"id": "p", "incoming": {"from": "a@b.example", "subject": "s", "body": "b"}, "reply": {"body": "r"}}
    )
    cases = triage_cases([pair], [d for d in docs if d.subject == "Weekly market letter"], 5)
    assert [(c.replied, m.subject) for c, m in cases] == [(True, "s"), (False, "Weekly market letter")]


# --- the command ------------------------------------------------------------------------------------


def _answer(messages: list[BaseMessage]) -> str:
    """A stand-in model: the first listed choice for the reply's decision, a short reply for the writing."""
    system = messages[0].text
    if "JSON" in system:
        options = re.findall(r"^- (\w+):", system, re.MULTILINE)
        return json.dumps({"reason": "as before", "decision": options[0] if options else "answer"})
    return "Chris will attend.\n\nPat"


def _respond(app: App, mail: IncomingMail, principal: object) -> Triage:
    """Triage as a stand-in that answers every mail: the eval's counting, not triage, is under test."""
    return Triage(label=Label.RESPOND, reason="stand-in", source="rule")


def _cli(home: Path) -> typer.Typer:
    cli = typer.Typer()

    @cli.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = {"home": Home(home), "settings": Settings(chroma_url=None)}

    cli.command("replies")(replies_command)
    return cli


def test_cli_mailbox_builds_a_home_and_reports_replies_and_triage(
    tmp_path: Path, monkeypatch, embedder
) -> None:
    box = write_mailbox(tmp_path)
    model = ScriptedChatModel(replies=[_answer] * 40)
    monkeypatch.setattr(LLM, "from_settings", classmethod(lambda cls, *_: LLM(model, local=True)))
    monkeypatch.setattr(App, "embedder", embedder)
    monkeypatch.setattr("persona.evals.mailbox.triage", _respond)
    work, out = tmp_path / "work", tmp_path / "out"
    result = CliRunner().invoke(
        _cli(tmp_path / "unused"),
        [
            "replies",
            "--mailbox",
            str(box),
            "--owner",
            OWNER,
            "--split",
            "2001-03-01",
            "--work-home",
            str(work),
            "--out",
            str(out),
        ],
        terminal_width=160,
    )
    assert result.exit_code == 0, result.output
    assert "owner: Pat Moreno" in result.output
    assert "decision agreement" in result.output and "sign-off as the owner's" in result.output
    assert "triage agrees with what the person did" in result.output
    report = json.loads((out / "report.json").read_text())
    assert report["pairs"] == 2 and report["habits"]["closings"] == ["pat"]
    assert report["twin"]["signoff_ok"] == 1.0
    assert [r["real_decision"] for r in report["results"]] == ["decline", "accept"]
    cases = json.loads((out / "triage.json").read_text())["cases"]
    assert [c["replied"] for c in cases] == [True, True, False]
    assert "answered -> respond 2/2; unanswered -> not respond 0/1" in " ".join(result.output.split())
    assert "Pat Moreno" in (work / "persona.yaml").read_text()


def test_cli_mailbox_needs_an_owner(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        _cli(tmp_path), ["replies", "--mailbox", str(tmp_path), "--split", "2001-03-01"]
    )
    assert result.exit_code != 0 and "--owner" in str(result.exception)


def test_the_fresh_text_of_a_lotus_notes_reply_ends_before_the_quote_header() -> None:
    body = notes_reply(
        "Chris will attend.\n\nPat",
        "Sam Ortiz <sam@partner.example>",
        "01/09/2000 10:00:00 AM",
        "Review",
        "Can Chris join the review?",
    )
    assert (
        parse_mail(f"From: {OWNER}\nSubject: Re: Review\n\n{body}".encode()).fresh
        == "Chris will attend.\n\nPat"
    )
    dated = (
        "The review starts on 03/12/2001 10:00 AM\nin room 4.\n\nPat"  # a date that ends a line is no header
    )
    assert parse_mail(f"From: {OWNER}\nSubject: Review\n\n{dated}".encode()).fresh == dated
