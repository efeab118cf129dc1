"""`persona brief` on the demo data: every meeting, mail and follow-up in the brief exists in the sources."""

from __future__ import annotations

import email
import json
import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, date, datetime
from email.policy import default as default_policy
from pathlib import Path

import icalendar
import pytest
from langchain_core.messages import BaseMessage
from scheduler_helpers import persona_cli, scripted_app
from typer.testing import CliRunner

from persona.agent.inbox import process_inbox
from persona.app import App
from persona.channels.calendar import ICSBackend, import_ics
from persona.channels.email.delivery import open_email_channel
from persona.home import Home
from persona.llm.scripted import ScriptedChatModel
from persona.memory.embedding import Embedder
from persona.memory.ingest import ingest
from persona.profile import Audience, load_profile, save_profile
from persona.skills.brief import Brief, build_brief

DEMO = Path(__file__).resolve().parents[2] / "configs" / "demo"
DAY = date(2026, 11, 30)
INTRO = "Busy Monday: the stand-up, the vendor call prep and a few mails that need you."


def _answer(messages: list[BaseMessage]) -> str:
    if messages[0].text.startswith("You decide how"):  # before a reply: the first decision offered
        first = re.search(r"^- (\w+):", messages[0].text, re.MULTILINE)
        return json.dumps({"reason": "as before", "decision": first.group(1) if first else ""})
    if messages[0].text.startswith("You sort"):
        return '{"kind": "notice, alert or reminder"}'
    if "morning brief" in messages[0].text:
        return INTRO
    return "Thanks, I'll look at this today.\n\nDana"


@pytest.fixture(scope="module")
def demo(
    tmp_path_factory: pytest.TempPathFactory, embedder: Embedder
) -> Iterator[tuple[App, ScriptedChatModel, Brief]]:
    home = Home(tmp_path_factory.mktemp("demo") / "home").ensure()
    profile = load_profile(DEMO / "persona.yaml")
    save_profile(profile, home.profile_path)
    import_ics(ICSBackend(home.calendar_dir, profile.zone), DEMO / "calendar.ics")
    inbox = mailbox.Maildir(home.mail_dir, create=True)
    for path in sorted((DEMO / "inbox").glob("*.eml")):
        inbox.add(path.read_bytes())
    clock = lambda: datetime(2026, 11, 30, 6, 30, tzinfo=UTC)  # 07:30 in Berlin
    app, model = scripted_app(home, [_answer] * 100, clock, embedder)
    ingest(
        [DEMO / "corpus" / "team" / "sent.mbox"], store=app.memory, profile=profile, audience=Audience.TEAM
    )
    channel = open_email_channel(app)
    try:
        report = process_inbox(app, channel)
    finally:
        channel.stop()
    assert not report.stopped and len(report.outcomes) == 27
    calls_before = len(model.calls)
    brief = build_brief(app, DAY)
    assert len(model.calls) == calls_before + 1  # the intro: one call, tagged brief
    yield app, model, brief


def _calendar_events() -> dict[str, set[str]]:
    """UID -> the summaries its components carry (a series master and its per-occurrence overrides)."""
    found: dict[str, set[str]] = {}
    cal = icalendar.Calendar.from_ical((DEMO / "calendar.ics").read_bytes())
    for component in cal.walk("VEVENT"):
        found.setdefault(str(component["UID"]), set()).add(str(component.get("SUMMARY", "")))
    return found


def _inbox_mail() -> dict[str, str]:
    found = {}
    for path in (DEMO / "inbox").glob("*.eml"):
        msg = email.message_from_bytes(path.read_bytes(), policy=default_policy)
        found[str(msg["Message-ID"]).strip()] = str(msg["Subject"])
    return found


def _flat(text: str) -> str:
    return " ".join(text.split())


def test_every_meeting_is_in_the_calendar_on_that_day(demo: tuple[App, ScriptedChatModel, Brief]) -> None:
    app, _, brief = demo
    events = _calendar_events()
    assert brief.meetings, "the demo Monday has meetings"
    for item in brief.meetings:
        assert item.title in events.get(item.source, set()), item
        assert item.at is not None and item.at.astimezone(app.profile.zone).date() == DAY


def test_every_mail_is_in_the_inbox_and_needs_the_owner(demo: tuple[App, ScriptedChatModel, Brief]) -> None:
    app, _, brief = demo
    mail = _inbox_mail()
    assert brief.mail
    for item in brief.mail:
        assert mail.get(item.source) == item.title, item
        status = app.store.ledger_get(f"mail:{item.source}")
        assert status is not None and '"label":"ignore"' not in status[1]
    newsletters = {
        mid for mid, subject in mail.items() if "digest" in subject.lower() or "webinar" in subject.lower()
    }
    assert not newsletters & {i.source for i in brief.mail}


def test_follow_ups_quote_promises_from_sent_mail(demo: tuple[App, ScriptedChatModel, Brief]) -> None:
    _, _, brief = demo
    sent = _flat((DEMO / "corpus" / "team" / "sent.mbox").read_text(encoding="utf-8"))
    assert brief.follow_ups
    for item in brief.follow_ups:
        promise = re.search(r"“(.*)”", item.detail).group(1).rstrip("…")
        assert promise in sent, item
        assert re.search(r"\b(I'll|I will|let me|I'm going to)\b", promise, re.IGNORECASE)
        assert item.at is not None and (DAY - item.at.date()).days <= 14


def test_intro_comes_from_the_llm_but_facts_from_data(demo: tuple[App, ScriptedChatModel, Brief]) -> None:
    _, model, brief = demo
    assert brief.intro == INTRO and brief.intro_by_llm
    prompt = model.calls[-1][-1].text
    for item in brief.meetings:
        assert item.title in prompt
    rendered = brief.render()
    for item in brief.items:
        assert f"[{item.source}]" in rendered


def test_persona_brief_command_prints_it_without_an_llm(
    demo: tuple[App, ScriptedChatModel, Brief], monkeypatch: pytest.MonkeyPatch
) -> None:
    app, _, brief = demo
    monkeypatch.setenv("PERSONA_LLM_BASE_URL", "http://127.0.0.1:9/v1")  # nothing listens: no LLM available
    monkeypatch.setenv("PERSONA_LLM_TIMEOUT", "5")
    result = CliRunner().invoke(
        persona_cli(),
        ["--home", str(app.home.root), "brief", "--date", DAY.isoformat()],
        env={"COLUMNS": "200"},
    )
    assert result.exit_code == 0, result.output
    out = _flat(result.output)
    assert "Today: " in out  # the intro built from counts
    for item in brief.meetings + brief.mail:
        assert item.title in out and item.source in out
