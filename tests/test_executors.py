"""Executors are looked up in one place and a channel's leave with it; every payload fits its kind's model
before anything runs; an approval stored by an earlier version still loads and runs."""

from __future__ import annotations

import json
import mailbox
import sqlite3
import threading
from datetime import UTC, datetime

import pytest

from persona.actions import ActionGate, Executors
from persona.agent.inbox import process_inbox
from persona.app import App
from persona.channels.delivery import carried_out, delivering
from persona.channels.email import EmailChannel, OutgoingMail
from persona.channels.email.maildir import MaildirBackend
from persona.errors import ActionFailed
from persona.events import Action, ActionKind, Decision, Principal, Provenance, Verdict
from persona.payloads import PAYLOADS
from persona.settings import Settings
from persona.store import StateStore

OWNER = "dana@northwind.example"
MAIL = {
    "message_id": "<r1@northwind.example>",
    "from_addr": OWNER,
    "from_name": "Dana Reyes",
    "subject": "Re: cutover",
    "body": "Sure, 06:00 works.",
    "in_reply_to": "<q1@northwind.example>",
    "references": ["<q1@northwind.example>"],
    "date": "2026-12-01T09:00:00+00:00",
    "draft_body": "Sure, 06:00 works.",
}
SPAN = {"start": "2026-12-03T13:00:00+00:00", "end": "2026-12-03T13:45:00+00:00"}

# A well-formed payload of every kind the twin builds, and one that is malformed, with the field named.
GOOD_AND_BAD = {
    ActionKind.REPLY_CHAT: ({"text": "Hello", "session": "s1"}, {"session": "s1"}, "text"),
    ActionKind.SAVE_DRAFT: (MAIL, {**MAIL, "message_id": ""}, "message_id"),
    ActionKind.SEND_MAIL: (MAIL, {k: v for k, v in MAIL.items() if k != "date"}, "date"),
    ActionKind.FORWARD_MAIL: (MAIL, {**MAIL, "references": "<q1@northwind.example>"}, "references"),
    ActionKind.CREATE_EVENT: (
        {"summary": "Review", **SPAN},
        {"summary": "Review", **SPAN, "end": SPAN["start"]},
        "end",
    ),
    ActionKind.MOVE_EVENT: (
        {"uid": "e1", **SPAN},
        {"uid": "e1", "start": "Tuesday 15:00", "end": SPAN["end"]},
        "start",
    ),
    ActionKind.CANCEL_EVENT: ({"uid": "e1"}, {"summary": "Review"}, "uid"),
    ActionKind.WRITE_BRIEF: ({"brief": {"day": "2026-12-01"}, "by_mail": False}, {"by_mail": True}, "brief"),
    ActionKind.LEAVE_MESSAGE: (
        {"text": "Call Sam", "channel": "chat"},
        {"text": "", "channel": "chat"},
        "text",
    ),
    ActionKind.REMEMBER: (
        {"text": "Sam likes tea", "audience": "owner"},
        {"text": "Sam likes tea", "audience": "all"},
        "audience",
    ),
    ActionKind.CORRECT_TRIAGE: (
        {"message_id": "<m@x>", "sender": "news@x.example", "label": "ignore"},
        {"message_id": "<m@x>", "sender": "news@x.example", "label": "spam"},
        "label",
    ),
}


class CountingMaildir(MaildirBackend):
    """The Maildir backend, counting connections and what it was asked to send."""

    def __init__(self, *args, **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.opened, self.sent = 0, []

    def open(self) -> None:
        self.opened += 1
        super().open()

    def send(self, msg: OutgoingMail) -> str:
        self.sent.append(msg.message_id)
        return super().send(msg)


def _action(profile, kind: ActionKind, payload: dict, asker: str = OWNER) -> Action:
    who = Principal.resolve(profile, asker)
    origin = [Provenance.of(who)]
    return Action(
        kind=kind,
        requested_by=who,
        targets=[] if who.is_owner else [who.address],
        target_provenance=[] if who.is_owner else origin,
        payload=payload,
        payload_provenance=origin,
    )


def _sent(app: App) -> list[str]:
    box = mailbox.Maildir(app.home.mail_dir, create=True).get_folder("Sent")
    return [str(box.get_message(key)["Message-ID"]) for key in box.iterkeys()]


def test_a_stopped_channel_leaves_no_executor_and_its_approval_fails_without_reconnecting(home):
    app = App(home, Settings())
    stale = CountingMaildir(app.home.mail_dir, app.store)
    channel = EmailChannel(stale, app.profile)
    channel.start()
    process_inbox(app, channel)  # nothing new, but its executors were on the gate for the run
    channel.stop()
    assert ActionKind.SEND_MAIL not in app.gate.executors and ActionKind.SAVE_DRAFT not in app.gate.executors
    queued = _action(app.profile, ActionKind.SEND_MAIL, MAIL, asker="sam@northwind.example")
    assert app.gate.submit(queued).decision.verdict is Verdict.APPROVE

    with pytest.raises(ActionFailed, match="nothing here carries out send_mail: its channel is not open"):
        app.gate.approve(queued.id, by=OWNER)
    assert app.store.get_approval(queued.id).status == "failed"
    assert (
        stale.opened == 1 and stale.sent == [] and _sent(app) == []
    )  # the stopped channel was not used again
    assert "failed" in [e.kind for e in app.store.audit_entries(20)]

    done = carried_out(
        app, queued.id, lambda: app.gate.retry(queued.id, by=OWNER)
    )  # opens its own, then closes
    assert done.status == "executed" and _sent(app) == [MAIL["message_id"]]
    assert stale.opened == 1 and stale.sent == [] and ActionKind.SEND_MAIL not in app.gate.executors


def test_a_channel_opened_inside_another_comes_first_and_leaves_first():
    def named(name: str):
        return lambda _action: name

    executors = Executors({ActionKind.REMEMBER: named("home")})
    with executors.while_open({ActionKind.SEND_MAIL: named("outer"), ActionKind.REMEMBER: named("outer")}):
        with executors.while_open({ActionKind.SEND_MAIL: named("inner")}):
            assert executors.get(ActionKind.SEND_MAIL)(None) == "inner"
        assert executors.get(ActionKind.SEND_MAIL)(None) == "outer"
        assert executors.get(ActionKind.REMEMBER)(None) == "outer"
    assert ActionKind.SEND_MAIL not in executors and executors.get(ActionKind.REMEMBER)(None) == "home"
    with pytest.raises(RuntimeError), executors.while_open({ActionKind.SEND_MAIL: named("failing")}):
        raise RuntimeError("the channel broke")
    assert ActionKind.SEND_MAIL not in executors


def test_each_thread_carries_out_through_the_channel_it_opened(home):
    """Two approvals at once (the desk's bulk approve): the second does not borrow the first's mail channel,
    which the first closes when it is done, whatever the second is doing then."""
    app = App(home, Settings())
    first_in, first_out = threading.Event(), threading.Event()
    seen: dict[str, object] = {}

    def first() -> None:
        with delivering(app, ActionKind.SEND_MAIL):
            seen["first"] = app.gate.executors.get(ActionKind.SEND_MAIL)
            first_in.set()
            first_out.wait(10)

    thread = threading.Thread(target=first)
    thread.start()
    assert first_in.wait(10)
    assert app.gate.executors.opened_here(ActionKind.SEND_MAIL) is None  # nothing of this thread's yet
    assert app.gate.executors.get(ActionKind.SEND_MAIL) is seen["first"]  # though another's is open
    with delivering(app, ActionKind.SEND_MAIL):
        mine = app.gate.executors.get(ActionKind.SEND_MAIL)
        first_out.set()
        thread.join(10)  # the first channel is closed now
        assert mine is not seen["first"] and app.gate.executors.get(ActionKind.SEND_MAIL) is mine
    assert ActionKind.SEND_MAIL not in app.gate.executors


def test_every_kind_has_a_payload_model():
    assert set(PAYLOADS) == set(ActionKind)


@pytest.mark.parametrize("kind", list(GOOD_AND_BAD))
def test_a_malformed_payload_is_refused_before_anything_runs(tmp_path, profile, kind):
    good, bad, field = GOOD_AND_BAD[kind]
    ran: list[Action] = []
    gate = ActionGate(StateStore(tmp_path / "s.sqlite"), profile, {kind: lambda a: ran.append(a) or "done"})

    refused = gate.submit(_action(profile, kind, bad))
    assert refused.decision.verdict is Verdict.REFUSE and refused.decision.rule == "payload"
    assert refused.decision.reason.startswith(f"{kind.value} payload: {field}:") and ran == []
    [audited] = [e for e in gate.store.audit_entries(10) if e.kind == "decision"]
    assert audited.detail["rule"] == "payload" and not gate.store.approvals()

    assert (
        gate.submit(_action(profile, kind, good)).decision.rule != "payload"
    )  # the same action, well formed


def test_a_stored_approval_that_no_longer_fits_fails_without_running(tmp_path, profile):
    ran: list[Action] = []
    gate = ActionGate(
        StateStore(tmp_path / "s.sqlite"), profile, {ActionKind.SEND_MAIL: lambda a: ran.append(a) or "sent"}
    )
    broken = _action(
        profile,
        ActionKind.SEND_MAIL,
        {"subject": "Hi", "body": "no id, no sender, no date"},
        asker="sam@northwind.example",
    )
    gate.store.enqueue_approval(broken, Decision(verdict=Verdict.APPROVE, reason="queued long ago"))
    with pytest.raises(ActionFailed, match="send_mail payload: message_id: Field required"):
        gate.approve(broken.id, by=OWNER)
    assert ran == [] and gate.store.get_approval(broken.id).status == "failed"


# Approvals exactly as the twin stored them before payloads had models: the JSON of the `action` column.
STORED = {
    "send": {
        "id": "a" * 32,
        "kind": "send_mail",
        "requested_by": {
            "role": "colleague",
            "address": "sam@northwind.example",
            "name": "Sam Okafor",
            "audiences": ["public", "team"],
        },
        "targets": ["sam@northwind.example"],
        "target_provenance": [{"source": "known_person", "ref": "<q1@northwind.example>", "authors": None}],
        "payload": {
            **MAIL,
            "decision": {"decision": "accept", "reason": "a free slot", "by": "rule", "evidence": []},
        },
        "payload_provenance": [{"source": "known_person", "ref": "<q1@northwind.example>", "authors": None}],
        "event_id": "e1",
        "summary": "send reply to sam@northwind.example: Re: cutover",
        "request": "",
    },
    "event": {
        "id": "b" * 32,
        "kind": "create_event",
        "requested_by": {
            "role": "colleague",
            "address": "sam@northwind.example",
            "name": "Sam Okafor",
            "audiences": ["public", "team"],
        },
        "targets": ["sam@northwind.example"],
        "target_provenance": [{"source": "known_person", "ref": ""}],
        "payload": {
            "summary": "Cutover review",
            **SPAN,
            "organizer": OWNER,
            "attendees": ["sam@northwind.example"],
            "status": "TENTATIVE",
            "alternatives": [{"start": "2026-12-04T08:00:00+00:00", "end": "2026-12-04T08:45:00+00:00"}],
        },
        "payload_provenance": [{"source": "known_person", "ref": ""}],
        "event_id": "",
        "summary": "tentative event",
        "request": "",
    },
}


def test_an_approval_stored_with_the_old_dict_payload_loads_and_runs(home):
    StateStore(home.state_db)  # the schema, as an existing home has it
    with sqlite3.connect(home.state_db) as db:
        for action in STORED.values():
            db.execute(
                "INSERT INTO approvals (id, created, status, action, reason) VALUES (?,?,?,?,?)",
                (action["id"], "2026-12-01T09:00:00+00:00", "pending", json.dumps(action), "needs approval"),
            )
    app = App(home, Settings(), clock=lambda: datetime(2026, 12, 1, 9, 30, tzinfo=UTC))
    send, event = (app.store.get_approval(action["id"]) for action in STORED.values())
    assert send.action.payload == STORED["send"]["payload"]  # the audited JSON is what it was

    assert carried_out(app, send.id, lambda: app.gate.approve(send.id, by=OWNER)).status == "executed"
    assert _sent(app) == [MAIL["message_id"]]
    with delivering(app, ActionKind.CREATE_EVENT):
        assert (
            app.gate.approve(event.id, by=OWNER, edited={"start": "2026-12-04T08:00:00+00:00"}).status
            == "executed"
        )
    [held] = app.calendar.events(datetime(2026, 12, 4, tzinfo=UTC), datetime(2026, 12, 5, tzinfo=UTC))
    assert held.summary == "Cutover review" and held.end - held.start == datetime.fromisoformat(
        SPAN["end"]
    ) - datetime.fromisoformat(SPAN["start"])
