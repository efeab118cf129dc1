"""Voice-fidelity eval: pairs from the owner's own mail, the held-out memory window, scores, CLI."""

from __future__ import annotations

import json
import mailbox
import re
from datetime import UTC, datetime
from email.message import EmailMessage
from pathlib import Path

import pytest
import typer
from typer.testing import CliRunner

from persona.app import App
from persona.cli.measure import replies_command
from persona.errors import ConfigError, NotReady
from persona.evals.replies import (
    baseline,
    decision_of,
    held_out,
    load_pairs,
    pairs_from_home,
    run_replies,
    style_distance,
)
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.memory.embedding import Embedder
from persona.memory.ingest import ingest
from persona.profile import Audience, Profile, save_profile
from persona.settings import Settings

# (date, sender, subject, what the sender wrote, the owner's reply)
THREADS = [
    (
        "Mon, 04 May 2026 10:00:00 +0000",
        "Sam Okafor <sam@northwind.example>",
        "Budget for staging",
        "Can we get a second staging cluster for the migration rehearsal?",
        "Hi Sam,\n\nYes, go ahead with the second cluster. Keep it time-boxed to three months.\n\nThanks,\nDana",
    ),
    (
        "Tue, 12 May 2026 10:00:00 +0000",
        "Kim Vendor <kim@vendor.example>",
        "Renewal call",
        "Could we do a renewal call this Friday?",
        "Hi Kim,\n\nFriday doesn't work for me. How about Monday at 14:00 instead?\n\nThanks,\nDana",
    ),
    (
        "Wed, 14 Oct 2026 10:00:00 +0000",
        "Sam Okafor <sam@northwind.example>",
        "On-call swap",
        "Can I swap my on-call week with Priya in November?",
        "Hi Sam,\n\nYes, that's fine. Please update the rota so the pager follows the swap.\n\nThanks,\nDana",
    ),
    (
        "Thu, 15 Oct 2026 10:00:00 +0000",
        "Kim Vendor <kim@vendor.example>",
        "Conference booth",
        "Would your team like to share our booth at the conference?",
        "Hi Kim,\n\nNo, thank you. We're not doing conferences this year.\n\nThanks,\nDana",
    ),
]
SPLIT = "2026-10-01"


def write_sent_mbox(path: Path) -> None:
    box = mailbox.mbox(str(path))
    for i, (date, sender, subject, original, reply) in enumerate(THREADS):
        msg = EmailMessage()
        msg["From"] = "Dana Reyes <dana@northwind.example>"
        msg["To"] = sender
        msg["Subject"] = f"Re: {subject}"
        msg["Date"] = date
        msg["Message-ID"] = f"<reply{i}@northwind.example>"
        msg["In-Reply-To"] = f"<original{i}@elsewhere.example>"
        quoted = "\n".join(f"> {line}" for line in original.splitlines())
        msg.set_content(f"{reply}\n\nOn {date}, {sender} wrote:\n{quoted}\n")
        box.add(msg)
    box.flush()
    box.close()


@pytest.fixture
def mail_home(home: Home, profile: Profile, embedder: Embedder, tmp_path: Path) -> Home:
    """The shared test profile plus an ingested sent folder (the originals are only quoted)."""
    save_profile(profile, home.profile_path)
    sent = tmp_path / "sent.mbox"
    write_sent_mbox(sent)
    app = App(home, Settings(chroma_url=None))
    app.__dict__["embedder"] = embedder
    ingest([sent], store=app.memory, profile=app.profile, audience=Audience.TEAM)
    return home


def scripted_app(home: Home, embedder: Embedder, replies: list) -> tuple[App, ScriptedChatModel]:
    model = ScriptedChatModel(replies=replies)
    app = App(home, Settings(chroma_url=None), llm=LLM(model, local=True))
    app.__dict__["embedder"] = embedder
    return app, model


SPLIT_AT = datetime.fromisoformat(SPLIT).replace(tzinfo=UTC)


def structured(messages) -> str:
    """JSON for a structured step before the writing: the first choice its prompt lists ("- accept: ...")."""
    options = re.findall(r"^- (\w+):", messages[0].text, re.MULTILINE)
    return json.dumps(
        {"reason": "as before", "decision": options[0] if options else "answer", "label": "respond"}
    )


@pytest.mark.parametrize(
    ("text", "decision"),
    [
        ("Hi Sam,\n\nYes, go ahead with the second cluster.\n\nThanks,\nDana", "accept"),
        ("Friday doesn't work for me. How about Monday at 14:00 instead?", "reschedule"),
        ("No, thank you. We're not doing conferences this year.", "decline"),
        ("I'm looping in Priya, she owns the rota.", "forward"),
        ("The cutover finished at 06:40 and all checks are green.", "inform"),
        ("Which cluster?", "other"),
        # real-reply phrasing, as the mailbox eval meets it (an assistant, Pat, answering for Chris)
        ("Please remove Chris from your distribution list.\n\nPat", "unsubscribe"),
        ("REMOVE FROM E-MAIL LIST!!", "unsubscribe"),
        ("I have forwarded your message to Bill at the Houston office.", "forward"),
        ("Will you please do it, Colin?  Chris is in Japan.", "forward"),
        ("Unfortunately, Chris will be out of town that day.\n\nPat", "decline"),
        ("Mr. Lane will not be able to attend.", "decline"),
        ("Not interested", "decline"),
        ("Thank you, but no interest at this time.", "decline"),
        ("Chris will be able to do this Thursday afternoon.", "accept"),
        ("Chris would like to title his talk 'Energy'. We look forward to receiving the agenda.", "inform"),
        ("Thanks, I'm looking forward to the board meeting in May.", "thank"),
        ("Chris's schedule is packed; the best date is not until September 26.", "reschedule"),
        ("Chris will attend both meetings.", "accept"),
        ("Chris is happy to do so again this year.\n\nPat", "accept"),
        ("Chris said this is fine.", "accept"),
        ("Thanks, Michelle.  This will help, I think.\n\nPat", "thank"),
        ("We did receive this from David.", "thank"),
        ("Chris asked me to let you know that he doesn't know Stephen Bennett.", "inform"),
        ("Excuse me, but what does this mean?", "other"),
    ],
)
def test_decision_rules(text: str, decision: str) -> None:
    assert decision_of(text) == decision


def test_style_distance_is_zero_for_the_same_text_and_counts_each_habit() -> None:
    same, parts = style_distance(
        "Hi Sam,\n\nYes, fine.\n\nThanks,\nDana", "Hi Sam,\n\nYes, fine.\n\nThanks,\nDana"
    )
    assert same == 0 and set(parts) == {"length", "greeting", "signoff", "punctuation", "formality"}
    _, parts = style_distance("Hi Sam,\n\nYes, fine.\n\nThanks,\nDana", "Yes, fine.")
    assert parts["greeting"] == 1 and parts["signoff"] == 1 and 0 < parts["length"] < 1


def test_pairs_from_home_hold_out_replies_after_the_split_with_their_quoted_originals(
    mail_home: Home, embedder
) -> None:
    app, _ = scripted_app(mail_home, embedder, [])
    pairs, skipped = pairs_from_home(app, SPLIT_AT)
    assert skipped == 0
    assert [p.incoming.subject for p in pairs] == ["On-call swap", "Conference booth"]
    assert pairs[0].incoming.body == THREADS[2][3]
    assert pairs[0].incoming.from_ == "sam@northwind.example"
    assert pairs[1].reply.body.startswith("Hi Kim,\n\nNo, thank you.")


def test_held_out_memory_and_style_card_see_only_what_came_before(mail_home: Home, embedder) -> None:
    app, _ = scripted_app(mail_home, embedder, [])
    assert app.memory.search(
        "on-call swap rota pager", [Audience.TEAM], k=10, kind="exemplar"
    )  # whole memory finds it
    past = held_out(app, SPLIT_AT)
    hits = past.memory.search("on-call swap rota pager", [Audience.TEAM], k=10)
    assert hits and all(h.metadata["date"] < SPLIT for h in hits)
    assert past.style_card is not None and past.style_card.samples == 2
    with pytest.raises(NotReady, match="before 2026-05-01"):
        held_out(app, datetime(2026, 5, 1, tzinfo=UTC))


def test_run_scores_twin_and_baseline_and_writes_its_files(mail_home: Home, embedder, tmp_path: Path) -> None:
    """The scripted twin answers with the owner's real reply, the baseline with an unrelated refusal-free
    note: the scores must tell them apart, and each prompt must carry (or lack) the owner's past mail."""
    app, model = scripted_app(mail_home, embedder, [])
    pairs, _ = pairs_from_home(app, SPLIT_AT)
    real = {p.incoming.subject: p.reply.body for p in pairs}

    def answer(messages) -> str:
        if "JSON" in messages[0].text:  # a structured step before the writing (the reply's decision)
            return structured(messages)
        last = messages[-1].text
        subject = next(s for s in real if s in last)
        if "Typical length" in messages[0].text:  # the persona prefix with the held-out style card: the twin
            return real[subject]
        return "Dear colleague! I will look at the budget spreadsheet soon!! Regards"

    model.replies = [answer] * 16
    out = tmp_path / "out"
    twin = held_out(app, SPLIT_AT)
    report = run_replies(twin, baseline(app), pairs, memory="before split", out=out)
    assert twin.clock() == datetime.fromisoformat(
        pairs[-1].reply.date
    )  # drafted on the day the owner replied

    assert report.twin.semantic == pytest.approx(1.0, abs=1e-3) and report.twin.style == 0
    assert report.twin.agreement == 1.0
    assert (
        report.baseline.semantic < 0.6 and report.baseline.agreement < 1
    )  # its style is finished like the twin's
    drafting = [c for c in model.calls if "JSON" not in c[0].text]
    twin_prompts, base_prompts = drafting[0::2], drafting[1::2]
    assert any("second cluster" in m.text for m in twin_prompts[0])  # a pre-split exemplar as an earlier turn
    assert not any(
        "second cluster" in m.text or "How about Monday" in m.text for p in base_prompts for m in p
    )
    assert not any("Dana writes" in p[0].text or "Typical length" in p[0].text for p in base_prompts)
    drafts = [json.loads(line) for line in (out / "drafts.jsonl").read_text().splitlines()]
    assert [d["draft"] for d in drafts] == [real[p.incoming.subject] for p in pairs]
    assert json.loads((out / "report.json").read_text())["twin"]["agreement"] == 1.0


def test_a_holding_reply_agrees_with_no_decision(mail_home: Home, embedder, tmp_path: Path) -> None:
    """The baseline's drafts fail the checks, so it promises an answer ("Thanks for your message…"): that
    decides nothing, although its words read as a thank-you."""
    app, model = scripted_app(mail_home, embedder, [])
    pairs, _ = pairs_from_home(app, SPLIT_AT)
    real = {p.incoming.subject: p.reply.body for p in pairs}

    def answer(messages) -> str:
        if "JSON" in messages[0].text:
            return structured(messages)
        if "Typical length" not in messages[0].text:  # the baseline: nothing to write, twice
            return ""
        return real[next(s for s in real if s in messages[-1].text)]

    model.replies = [answer] * 24
    report = run_replies(held_out(app, SPLIT_AT), baseline(app), pairs, memory="before split", out=tmp_path)
    assert report.baseline.fallbacks == len(pairs) and report.baseline.agreement == 0
    assert all(
        r.baseline.decision == "hold" and "get back to you" in r.baseline.draft for r in report.results
    )
    assert report.twin.agreement == 1.0 and report.twin.fallbacks == 0


def test_load_pairs_reports_the_bad_line(tmp_path: Path) -> None:
    path = tmp_path / "pairs.jsonl"
    path.write_text(
        '{"id": "1", "incoming": {"from": "a@b.c", "body": "hi"}, "reply": {"body": "yo"}}\n{"id": "2"}\n'
    )
    with pytest.raises(ConfigError, match=r"pairs.jsonl:2: .*incoming"):
        load_pairs(path)


def _cli(home: Home) -> typer.Typer:
    app = typer.Typer()

    @app.callback()
    def root(ctx: typer.Context) -> None:
        ctx.obj = {"home": home, "settings": Settings(chroma_url=None)}

    app.command("replies")(replies_command)
    return app


def test_cli_replies_from_pairs_prints_twin_and_baseline(home: Home, tmp_path: Path, monkeypatch) -> None:
    from persona.llm.scripted import ScriptedChatModel

    texts = ["Hi Sam,\n\nYes, that works for me.\n\nBest,\nDana", "Hello Sam, I cannot commit to that now."]

    def answer(messages) -> str:  # a structured step (the reply's decision) gets JSON, the writing a text
        return structured(messages) if "JSON" in messages[0].text else texts.pop(0)

    model = ScriptedChatModel(replies=[answer] * 6)
    monkeypatch.setattr(LLM, "from_settings", classmethod(lambda cls, *_: LLM(model, local=True)))
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps(
            {
                "id": "p1",
                "incoming": {
                    "from": "Sam Okafor <sam@northwind.example>",
                    "to": "dana@northwind.example",
                    "subject": "Thursday?",
                    "body": "Can we meet Thursday?",
                },
                "reply": {"body": "Hi Sam,\n\nYes, Thursday works.\n\nThanks,\nDana"},
            }
        )
        + "\n"
    )
    result = CliRunner().invoke(_cli(home), ["replies", str(pairs), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "semantic similarity" in result.output and "decision agreement" in result.output
    assert "100%" in result.output and "0%" in result.output  # twin accepts like the owner, baseline declines
    assert (tmp_path / "out" / "drafts.jsonl").exists()


def test_cli_replies_needs_exactly_one_source(home: Home) -> None:
    result = CliRunner().invoke(_cli(home), ["replies"])
    assert result.exit_code != 0 and "PAIRS.jsonl" in str(result.exception)
    result = CliRunner().invoke(_cli(home), ["replies", "--from-home"])
    assert "--split" in str(result.exception)
