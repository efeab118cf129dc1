"""Zero idle cost: an hour of scheduler ticks with nothing new makes no LLM call; calls are booked per job."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from scheduler_helpers import Clock, deliver, persona_cli, scripted_app
from typer.testing import CliRunner

from persona.app import App
from persona.home import Home
from persona.llm.usage import UsageLedger
from persona.scheduler import jobs
from persona.settings import LLMSettings, Settings

TRIAGE = '{"kind": "notice, alert or reminder"}'


@pytest.fixture
def registered() -> Iterator[list[App]]:
    apps: list[App] = []
    yield apps
    for app in apps:
        jobs.APPS.unregister(app)


def _tick_for_an_hour(home: Home, clock: Clock) -> None:
    for minute in range(0, 60, 5):  # the default inbox interval; the calendar every 15 minutes
        jobs.poll_inbox(str(home.root))
        if minute % 15 == 0:
            jobs.sync_calendar(str(home.root))
        clock.advance(minutes=5)


def test_idle_hour_makes_no_llm_call_and_new_mail_is_booked(
    home: Home, clock: Clock, registered: list[App]
) -> None:
    app, model = scripted_app(home, [TRIAGE], clock)
    jobs.APPS.register(app)
    registered.append(app)
    deliver(
        home,
        "Kim Vendor <kim@vendor.example>",
        "Renewal status",
        "The contract renewal is in legal review.",
        "<renewal-1@vendor.example>",
        clock(),
    )

    assert jobs.poll_inbox(str(home.root)) == "1 mail handled"
    assert len(model.calls) == 1
    _tick_for_an_hour(home, clock)

    assert len(model.calls) == 1  # twelve inbox polls and four calendar syncs later: still the one triage
    rows = UsageLedger.of(app).rows()
    assert [(r.day, r.job, r.tag, r.calls) for r in rows] == [("2026-11-30", "inbox", "triage", 1)]
    assert rows[0].prompt_tokens == sum(
        len(m.text.split()) for m in model.calls[0]
    )  # the scripted model's words
    assert rows[0].completion_tokens == len(TRIAGE.split())


def test_idle_ticks_never_build_the_llm(home: Home, clock: Clock, registered: list[App]) -> None:
    app = App(
        home, Settings(llm=LLMSettings(base_url="http://127.0.0.1:9/v1")), clock=clock
    )  # no model given
    jobs.APPS.register(app)
    registered.append(app)
    _tick_for_an_hour(home, clock)
    assert "llm" not in vars(app)  # App.llm is built on first use; an idle hour never got there
    assert UsageLedger.of(app).rows() == []


def test_usage_command_prints_the_ledger(home: Home, clock: Clock, registered: list[App]) -> None:
    app, _model = scripted_app(home, [TRIAGE, TRIAGE], clock)
    jobs.APPS.register(app)
    registered.append(app)
    for n in range(2):
        deliver(home, "kim@vendor.example", f"Status {n}", "In review.", f"<s{n}@vendor.example>", clock())
        jobs.poll_inbox(str(home.root))
        clock.advance(days=1)

    result = CliRunner().invoke(persona_cli(), ["--home", str(home.root), "usage", "--days", "30"])
    assert result.exit_code == 0, result.output
    lines = [line for line in result.output.splitlines() if "inbox" in line or "total" in line]
    assert len(lines) == 3 and "2026-11-30" in lines[0] and "2026-12-01" in lines[1]
    assert lines[2].split("│")[4].strip() == "2"


def test_calendar_sync_notes_changes_once(home: Home, clock: Clock, registered: list[App]) -> None:
    from persona.channels.calendar import CalEvent

    app, model = scripted_app(home, [], clock)
    jobs.APPS.register(app)
    registered.append(app)
    start = clock() + timedelta(hours=3)
    app.calendar.create(CalEvent(uid="sync@t", summary="Sync", start=start, end=start + timedelta(hours=1)))

    assert jobs.sync_calendar(str(home.root)) == "1 upcoming events, 1 changed"
    assert jobs.sync_calendar(str(home.root)) == "1 upcoming events, 0 changed"
    app.calendar.move("sync@t", start + timedelta(hours=1), start + timedelta(hours=2))
    assert jobs.sync_calendar(str(home.root)) == "1 upcoming events, 1 changed"
    assert [e.detail["events"] for e in app.store.audit_entries(kind="calendar_changed")] == [
        ["sync@t"],
        ["sync@t"],
    ]
    assert model.calls == []
