"""Memory upkeep folds the day's conversations and the owner's decisions into memory: labelled owner-only,
with provenance, deduplicated, and nothing dropped."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from functools import partial

import pytest
from scheduler_helpers import Clock, scripted_app
from test_executors import MAIL

from persona.agent.checkpoints import conversations_since
from persona.agent.runner import Twin
from persona.app import App
from persona.events import Action, ActionKind, Event, Principal, Provenance
from persona.home import Home
from persona.memory.embedding import Embedder
from persona.profile import Audience, Role
from persona.skills.triage import Correction, Label, record_correction
from persona.skills.upkeep import UpkeepReport, run_upkeep

LONG = " ".join(f"Step {n}: check replica {n} lag before switching traffic." for n in range(1, 40))
REPLIES = ["The cutover checklist is in the runbook, section 4.", LONG, "Booked for Thursday.", "Noted."]


def _say(app: App, principal: Principal, text: str, session: str) -> None:
    async def once() -> None:
        async with Twin.open(app) as twin:
            await twin.respond(
                Event(
                    channel="chat",
                    principal=principal,
                    text=text,
                    session_id=session,
                    provenance=Provenance.of(principal),
                )
            )

    asyncio.run(once())


def _upkeep(app: App) -> UpkeepReport:
    return run_upkeep(app, partial(conversations_since, app.home.checkpoints_db))


def _folded(app: App, audiences: list[Audience], query: str = "cutover checklist replica lag Lisbon"):
    return app.memory.search(query, audiences, k=50, where={"provenance": "twin-chat"})


@pytest.fixture
def day(home: Home, clock: Clock, embedder: Embedder) -> tuple[App, Principal]:
    app, _ = scripted_app(home, REPLIES, clock, embedder)
    sam = Principal.resolve(app.profile, "sam@northwind.example")
    assert sam.role is Role.COLLEAGUE
    _say(app, sam, "Can you send me the cutover checklist?", "s1")
    _say(app, Principal.owner(app.profile), "What are the replica checks for Sunday?", "o1")
    return app, sam


def test_upkeep_folds_conversations_owner_only_with_provenance(day: tuple[App, Principal]) -> None:
    app, sam = day
    report = _upkeep(app)
    assert (report.conversations, report.messages) == (2, 4)
    assert report.added >= 4 and report.present == 0

    hits = _folded(app, [Audience.OWNER])
    texts = " ".join(h.text for h in hits)
    for said in (
        "Can you send me the cutover checklist?",
        "The cutover checklist is in the runbook, section 4.",
        "What are the replica checks for Sunday?",
    ):
        assert said in texts
    for n in range(1, 40):  # the long answer is chunked, not cut
        assert f"Step {n}: check replica {n} lag" in texts
    from_sam = [h for h in hits if h.metadata.get("author") == sam.address]
    assert from_sam and all(h.metadata["principal_role"] == "colleague" for h in from_sam)
    assert all(
        h.metadata["audience"] == "owner" and h.metadata["source"].startswith("conversation:chat:")
        for h in hits
    )
    assert _folded(app, [Audience.TEAM, Audience.PUBLIC]) == []  # a colleague never retrieves them


def test_upkeep_again_adds_only_what_is_new(day: tuple[App, Principal], clock: Clock) -> None:
    app, sam = day
    first = _upkeep(app)
    assert _upkeep(app).messages == 0  # nothing happened since

    clock.advance(days=1)
    _say(app, sam, "Can you book the Lisbon room for Thursday?", "s1")  # the same conversation goes on
    later = _upkeep(app)
    assert (later.conversations, later.messages) == (1, 4)
    assert later.added == 2 and later.present == 2  # the two earlier messages are known already
    assert app.memory.count("knowledge") == first.added + 2


def test_upkeep_folds_the_owners_decisions(home: Home, clock: Clock, embedder: Embedder) -> None:
    app, _ = scripted_app(home, [], clock, embedder)
    stranger = Principal.resolve(app.profile, "pitch@startup.example")
    outcome = app.gate.submit(
        Action(
            kind=ActionKind.SEND_MAIL,
            requested_by=stranger,
            targets=["pitch@startup.example"],
            target_provenance=[Provenance.of(stranger)],
            payload=MAIL,
            summary="send reply to a pitch",
        )
    )
    app.gate.reject(outcome.action_id, by="dana@northwind.example", reason="not interested")
    record_correction(
        app.store,
        Correction(
            message_id="<n1@news.example>",
            sender="news@news.example",
            label=Label.IGNORE,
            subject="Weekly digest",
            at=datetime(2026, 11, 30, 9, tzinfo=UTC).isoformat(),
        ),
    )
    report = _upkeep(app)
    assert report.decisions == 2 and report.added == 2
    hits = app.memory.search(
        "owner rejected pitch digest ignore", [Audience.OWNER], k=5, where={"provenance": "owner-decision"}
    )
    texts = sorted(h.text for h in hits)
    assert any("rejected send mail: send reply to a pitch because: not interested" in t for t in texts)
    assert any("news@news.example" in t and "is ignore" in t for t in texts)
    assert _upkeep(app).decisions == 0
