"""An edit can never break an approval: checked before anything runs, the field named when it is refused.
A failed approval is retried or dismissed, each audited; one approval reads with what it answers."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from persona.actions import ActionGate
from persona.app import App
from persona.approval_detail import approval_detail
from persona.channels.calendar.delivery import tentative_event_payload
from persona.errors import ActionFailed, InvalidEdit, PersonaError
from persona.events import Action, ActionKind, Principal, Provenance
from persona.settings import Settings
from persona.skills.mailbox import MailState
from persona.store import StateStore

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
START, END = datetime(2026, 12, 3, 13, 0, tzinfo=UTC), datetime(2026, 12, 3, 13, 45, tzinfo=UTC)
OTHER = (datetime(2026, 12, 4, 8, 0, tzinfo=UTC), datetime(2026, 12, 4, 8, 45, tzinfo=UTC))


class Recorder:
    """An executor that keeps what it was asked to carry out; fails while `failing` says why."""

    def __init__(self) -> None:
        self.done: list[Action] = []
        self.failing = ""

    def __call__(self, action: Action) -> str:
        if self.failing:
            raise RuntimeError(self.failing)
        self.done.append(action)
        return f"done #{len(self.done)}"


@pytest.fixture
def gate(tmp_path, profile) -> tuple[ActionGate, Recorder]:
    run = Recorder()
    executors = {kind: run for kind in (ActionKind.SEND_MAIL, ActionKind.CREATE_EVENT)}
    return ActionGate(StateStore(tmp_path / "s.sqlite"), profile, executors, clock=lambda: NOW), run


def _queue(gate: ActionGate, kind: ActionKind, payload: dict) -> str:
    sam = Principal.resolve(gate.profile, "sam@northwind.example")
    origin = [Provenance.of(sam, ref="<q1@northwind.example>")]
    action = Action(
        kind=kind,
        requested_by=sam,
        targets=[sam.address],
        target_provenance=origin,
        payload_provenance=origin,
        payload=payload,
        summary=f"{kind.value} for Sam",
    )
    assert gate.submit(action).decision.verdict.value == "needs_approval"
    return action.id


def _reply(gate: ActionGate) -> str:
    return _queue(
        gate,
        ActionKind.SEND_MAIL,
        {
            "message_id": "<r1@northwind.example>",
            "from_addr": "dana@northwind.example",
            "subject": "Re: cutover",
            "body": "Sure, 06:00 works.",
            "draft_body": "Sure, 06:00 works.",
            "in_reply_to": "<q1@northwind.example>",
            "date": NOW.isoformat(),
        },
    )


def _meeting(gate: ActionGate) -> str:
    return _queue(
        gate,
        ActionKind.CREATE_EVENT,
        tentative_event_payload(
            "Cutover review",
            START.isoformat(),
            END.isoformat(),
            "dana@northwind.example",
            ["sam@northwind.example"],
            [OTHER],
        ),
    )


@pytest.mark.parametrize(
    ("edited", "field", "words"),
    [
        ({"start": "Tuesday 15:00"}, "start", "not a date and time"),
        ({"start": 1_700_000_000}, "start", "not a date and time"),
        ({"end": (START - timedelta(hours=1)).isoformat()}, "end", "after the start"),
        ({"start": (NOW - timedelta(days=1)).isoformat()}, "start", "in the past"),
        ({"attendees": ["eve@evil.example"]}, "attendees", "not editable"),
        ({"summary": "Something else"}, "summary", "not editable"),
    ],
)
def test_a_bad_meeting_edit_names_the_field_and_leaves_it_pending(gate, edited, field, words):
    gate, run = gate
    approval_id = _meeting(gate)
    with pytest.raises(InvalidEdit) as refused:
        gate.approve(approval_id, by="dana", edited=edited)
    assert refused.value.field == field and words in str(refused.value)
    assert gate.store.get_approval(approval_id).status == "pending" and run.done == []
    assert "approved" not in [e.kind for e in gate.store.audit_entries(50)]


@pytest.mark.parametrize(
    ("edited", "field"),
    [
        ({"draft_body": "what I meant"}, "draft_body"),
        ({"in_reply_to": "<other@x>"}, "in_reply_to"),
        ({"message_id": "<mine@x>"}, "message_id"),
        ({"nonsense": 1}, "nonsense"),
        ({"body": "   "}, "body"),
        ({"body": None}, "body"),
        ({"subject": "two\nlines"}, "subject"),
    ],
)
def test_a_mail_edit_outside_its_words_is_refused(gate, edited, field):
    gate, run = gate
    approval_id = _reply(gate)
    with pytest.raises(InvalidEdit) as refused:
        gate.approve(approval_id, by="dana", edited=edited)
    assert refused.value.field == field
    assert gate.store.get_approval(approval_id).status == "pending" and run.done == []


def test_the_edited_words_go_out_and_the_twins_draft_is_kept(gate):
    gate, run = gate
    approval_id = _reply(gate)
    done = gate.approve(
        approval_id,
        by="dana",
        edited={"body": "Sure, 06:00. I'll be online at 05:45.", "subject": "Re: cutover on Sunday"},
    )
    assert done.status == "executed" and done.receipt == "done #1"
    [sent] = run.done
    assert (
        sent.payload["body"] == "Sure, 06:00. I'll be online at 05:45."
        and sent.payload["subject"] == "Re: cutover on Sunday"
    )
    assert sent.payload["draft_body"] == "Sure, 06:00 works."  # what the inbox learns the owner's voice from


def test_a_new_start_alone_keeps_the_meetings_length_in_the_owners_zone(gate):
    gate, run = gate
    done = gate.approve(
        _meeting(gate), by="dana", edited={"start": "2026-12-04T09:00"}
    )  # Berlin, no zone given
    assert done.edited == {"start": "2026-12-04T09:00:00+01:00", "end": "2026-12-04T09:45:00+01:00"}
    assert datetime.fromisoformat(run.done[0].payload["start"]) == OTHER[0]


def test_edits_kept_while_waiting_are_checked_too(gate):
    gate, run = gate
    approval_id = _reply(gate)
    gate.store.edit_approval(approval_id, {"draft_body": "slipped in"})
    with pytest.raises(InvalidEdit):
        gate.approve(approval_id, by="dana")
    assert run.done == []


def test_a_failed_approval_is_retried_once_or_dismissed_and_both_are_audited(gate):
    gate, run = gate
    run.failing = "smtp.northwind.example refused the connection"
    first, second = _reply(gate), _meeting(gate)
    for approval_id in (first, second):
        with pytest.raises(ActionFailed, match="refused the connection.*persona approvals retry"):
            gate.approve(approval_id, by="dana")
        assert gate.store.get_approval(approval_id).status == "failed"
    with pytest.raises(PersonaError, match="is failed, not pending"):
        gate.approve(first, by="dana")

    run.failing = ""
    retried = gate.retry(first, by="dana")
    assert retried.status == "executed" and [a.id for a in run.done] == [first]
    with pytest.raises(PersonaError, match="is executed, not failed"):
        gate.retry(first, by="dana")
    assert gate.dismiss(second, by="dana", reason="booked it by phone").status == "dismissed"
    with pytest.raises(PersonaError, match="is dismissed, not failed"):
        gate.retry(second, by="dana")
    assert [a.id for a in run.done] == [first]

    audit = [(e.kind, e.detail.get("action_id")) for e in gate.store.audit_entries(50)]
    assert ("retried", first) in audit and ("dismissed", second) in audit
    assert [a.id for a in gate.store.decided_approvals()] == [second, first]  # the latest decision first
    assert gate.store.verify_audit().ok


def test_one_approval_reads_with_the_mail_it_answers_and_what_may_change(home):
    app = App(home, Settings(), clock=lambda: NOW)
    gate = app.gate
    mail = {
        "key": "1",
        "message_id": "<q1@northwind.example>",
        "from_addr": "sam@northwind.example",
        "subject": "Cutover",
        "date": NOW.isoformat(),
        "body": "Can you be online at 06:00 on Sunday?",
    }
    state = MailState(sender="sam@northwind.example", subject="Cutover", mail=mail)
    app.store.ledger_set("mail:<q1@northwind.example>", "done", state.model_dump_json())
    reply, meeting = _reply(gate), _meeting(gate)

    detail = approval_detail(app, reply)
    assert [(f.name, f.input, f.value) for f in detail.editable] == [
        ("body", "text", "Sure, 06:00 works."),
        ("subject", "line", "Re: cutover"),
    ]
    assert detail.original and detail.original.sender == "sam@northwind.example"
    assert (
        detail.original.text == "Can you be online at 06:00 on Sunday?"
        and detail.original.subject == "Cutover"
    )
    assert [(o.label, o.sources) for o in detail.provenance] == [
        ("Targets from", ["someone you know (<q1@northwind.example>)"]),
        ("Content from", ["someone you know (<q1@northwind.example>)"]),
    ]
    assert detail.reason == detail.approval.reason != ""

    [start, end] = approval_detail(app, meeting).editable
    assert (start.name, start.input, end.name) == ("start", "datetime", "end")
    assert [(c.start, c.label) for c in start.choices] == [(OTHER[0].isoformat(), "Fri 4 Dec 09:00–09:45")]


def test_a_chat_request_is_kept_with_what_it_asked_for(home):
    from persona.skills.turn import Turn

    app = App(home, Settings(), clock=lambda: NOW)
    sam = Principal.resolve(app.profile, "sam@northwind.example")
    turn = Turn(
        app=app,
        principal=sam,
        provenance=Provenance.of(sam),
        text="Can Dana meet Kim on Thursday?",
        event_id="e1",
        channel="chat",
        session="s1",
        now=NOW,
    )
    done = turn.submit(
        Action(
            kind=ActionKind.CREATE_EVENT,
            requested_by=sam,
            targets=[sam.address],
            target_provenance=[Provenance.of(sam)],
            payload_provenance=[Provenance.of(sam)],
            payload=tentative_event_payload(
                "Sync", START.isoformat(), END.isoformat(), "dana@northwind.example", [sam.address]
            ),
        )
    )
    original = approval_detail(app, done.id).original
    assert original and (original.channel, original.sender) == ("chat", "sam@northwind.example")
    assert original.text == "Can Dana meet Kim on Thursday?"
