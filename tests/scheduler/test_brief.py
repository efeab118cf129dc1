"""The daily brief from a small home: what goes in, what stays out, delivery to the owner only."""

from __future__ import annotations

import mailbox
from datetime import date, datetime, timedelta

from langchain_core.messages import BaseMessage
from scheduler_helpers import Clock, deliver, scripted_app

from persona.agent.inbox import process_inbox
from persona.app import App
from persona.channels.calendar import Attendee, CalEvent, PartStat, Status
from persona.channels.email.delivery import open_email_channel
from persona.errors import LLMUnavailable
from persona.home import Home
from persona.skills.brief import BRIEF_PREFIX, Brief, build_brief, deliver_brief

NOTIFY = '{"kind": "notice, alert or reminder"}'
IGNORE = '{"kind": "marketing or newsletter"}'
DAY = date(2026, 11, 30)


def _at(app: App, day: date, hour: int, minute: int = 0) -> datetime:
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=app.profile.zone)


def _calendar(app: App) -> None:
    """Four hour-long events: today's review, today's cancelled sync, tomorrow's call, an invitation in three days."""
    sam = Attendee(email="sam@northwind.example", name="Sam Okafor")
    me = Attendee(email="dana@northwind.example", partstat=PartStat.ACCEPTED)
    invited = Attendee(email="dana@northwind.example", partstat=PartStat.NEEDS_ACTION)
    for uid, summary, days, hour, more in [
        ("review@t", "Design review", 0, 10, {"attendees": [me, sam]}),
        ("gone@t", "Cancelled sync", 0, 12, {"status": Status.CANCELLED}),
        ("tomorrow@t", "Tomorrow's call", 1, 9, {}),
        ("invite@t", "Vendor demo", 3, 14, {"organizer": "kim@vendor.example", "attendees": [invited]}),
    ]:
        day = DAY + timedelta(days=days)
        app.calendar.create(
            CalEvent(uid=uid, summary=summary, start=_at(app, day, hour), end=_at(app, day, hour + 1), **more)
        )


def _inbox(app: App) -> None:
    channel = open_email_channel(app)
    try:
        assert not process_inbox(app, channel).stopped
    finally:
        channel.stop()


def _intro(text: str):
    def reply(messages: list[BaseMessage]) -> str:
        assert "morning brief" in messages[0].text
        return text

    return reply


def test_brief_gathers_from_data_and_is_delivered_to_the_owner(home: Home, clock: Clock) -> None:
    app, model = scripted_app(
        home, [NOTIFY, IGNORE, _intro("One review today."), NOTIFY, _intro("Quiet day.")], clock
    )
    _calendar(app)
    deliver(
        home, "kim@vendor.example", "Renewal update", "Legal is reviewing.", "<r1@vendor.example>", clock()
    )
    deliver(home, "deals@shop.example", "50% off", "Buy now.", "<ad1@shop.example>", clock())
    _inbox(app)

    brief = build_brief(app, DAY)
    assert [(m.source, m.title) for m in brief.meetings] == [("review@t", "Design review")]
    assert brief.meetings[0].at == _at(app, DAY, 10) and "Sam Okafor" in brief.meetings[0].detail
    assert [(m.source, m.title) for m in brief.mail] == [("<r1@vendor.example>", "Renewal update")]
    assert [(w.kind, w.source) for w in brief.waiting] == [("invitation", "invite@t")]
    assert brief.intro == "One review today." and brief.intro_by_llm
    assert [a.title for a in brief.activity] == ["sorted 2 new mails"]

    receipt = deliver_brief(app, brief, by_mail=True)
    assert "filed in .Sent" in receipt
    stored = app.store.ledger_get(BRIEF_PREFIX + "2026-11-30")
    assert stored is not None and Brief.model_validate_json(stored[1]) == brief
    sent = [m for m in mailbox.Maildir(home.mail_dir).get_folder("Sent")]
    assert len(sent) == 1 and sent[0]["To"] == "dana@northwind.example" and "Cc" not in sent[0]
    assert "Design review" in sent[0].get_payload(decode=True).decode()
    assert "already sent" in deliver_brief(app, brief, by_mail=True)  # a rerun of the morning job
    assert len(mailbox.Maildir(home.mail_dir).get_folder("Sent")) == 1

    clock.advance(days=1)  # the next morning: only what is new since this brief
    deliver(home, "kim@vendor.example", "Renewal signed", "Done.", "<r2@vendor.example>", clock())
    _inbox(app)
    nxt = build_brief(app, DAY + timedelta(days=1))
    assert [m.source for m in nxt.mail] == ["<r2@vendor.example>"]
    assert [m.source for m in nxt.meetings] == ["tomorrow@t"]
    assert [a.title for a in nxt.activity] == ["sorted 1 new mail"]
    assert len(model.calls) == 5


def test_brief_renders_from_data_when_the_llm_is_down(home: Home, clock: Clock) -> None:
    def down(_messages: list[BaseMessage]) -> str:
        raise LLMUnavailable("the LLM at http://127.0.0.1:9 did not answer")

    app, model = scripted_app(home, [down], clock)
    _calendar(app)
    brief = build_brief(app, DAY)
    assert not brief.intro_by_llm and brief.intro == "Today: 1 meeting; 1 item waits for approval."
    assert "Design review" in brief.render() and len(model.calls) == 1


def test_empty_day_makes_no_llm_call(home: Home, clock: Clock) -> None:
    app, model = scripted_app(home, [], clock)
    brief = build_brief(app, DAY)
    assert brief.items == [] and brief.intro == "Nothing needs you today." and model.calls == []


def test_an_item_without_a_source_is_rendered_without_an_empty_citation() -> None:
    from persona.skills.brief import BriefItem, Note

    at = datetime(2026, 11, 30, 9, 0)
    brief = Brief(
        day=DAY,
        owner="Dana Reyes",
        generated_at=at,
        meetings=[
            BriefItem(
                kind="meeting",
                source="",
                title="Focus: inbox",
                at=at,
                notes=[Note(text="bring the plan", source="")],
            ),
            BriefItem(kind="meeting", source="review@t", title="Design review", at=at),
        ],
    )
    text = brief.render()
    assert "- 09:00 **Focus: inbox**\n  - prep: bring the plan\n" in text and "[]" not in text
    assert "**Design review**  `[review@t]`" in text
