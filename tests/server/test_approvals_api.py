"""The approvals API as the desk calls it: a bad edit is a 422 naming the field and nothing runs; a good one
goes out as edited; a failed approval is retried or dismissed; one approval reads in full."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import nullcontext
from datetime import UTC, datetime, timedelta

import pytest
from server_helpers import Served, held_for_owner
from test_approval_edits import Recorder
from test_executors import MAIL

from persona.channels.calendar.delivery import tentative_event_payload
from persona.events import ActionKind


@pytest.fixture
def run(twin: Served, monkeypatch: pytest.MonkeyPatch) -> Iterator[Recorder]:
    """The recorder stands in for the mail and calendar channels: the server's request threads open none of
    their own and find it."""
    recorder = Recorder()
    monkeypatch.setattr("persona.channels.delivery.delivering", lambda _app, _kind: nullcontext())
    with twin.app.gate.executors.while_open(
        dict.fromkeys((ActionKind.SEND_MAIL, ActionKind.CREATE_EVENT), recorder)
    ):
        yield recorder


def _queue(twin: Served, kind: ActionKind, payload: dict) -> str:
    return held_for_owner(twin.app, "sam@northwind.example", kind, payload, f"{kind.value} for Sam").id


def _reply(twin: Served) -> str:
    return _queue(
        twin,
        ActionKind.SEND_MAIL,
        {
            **MAIL,
            "subject": "Re: cutover",
            "body": "Sure, 06:00 works.",
            "draft_body": "Sure, 06:00 works.",
            "in_reply_to": "<q@x>",
        },
    )


def _meeting(twin: Served) -> tuple[str, datetime]:
    start = (datetime.now(UTC) + timedelta(days=3)).replace(microsecond=0)
    return _queue(
        twin,
        ActionKind.CREATE_EVENT,
        tentative_event_payload(
            "Cutover review",
            start.isoformat(),
            (start + timedelta(minutes=30)).isoformat(),
            "dana@northwind.example",
            ["sam@northwind.example"],
            [(start + timedelta(days=1), start + timedelta(days=1, minutes=30))],
        ),
    ), start


def _post(twin: Served, approval_id: str, verb: str, body: dict | None = None):
    return twin.client.post(
        f"/api/approvals/{approval_id}/{verb}", json=body or {}, headers=twin.headers("owner")
    )


def test_a_bad_time_edit_is_a_422_naming_start_and_the_meeting_still_waits(twin: Served, run: Recorder):
    approval_id, _ = _meeting(twin)
    response = _post(twin, approval_id, "approve", {"edited": {"start": "Tuesday 15:00"}})
    assert response.status_code == 422
    assert response.json()["field"] == "start" and "Tuesday 15:00" in response.json()["error"]
    assert "\n" not in response.json()["error"]
    assert twin.app.store.get_approval(approval_id).status == "pending" and run.done == []


@pytest.mark.parametrize(
    "edited", [{"draft_body": "my words"}, {"to": "eve@evil.example"}, {"nonsense": "x"}]
)
def test_an_edit_of_what_a_person_does_not_edit_is_a_422(twin: Served, run: Recorder, edited: dict):
    approval_id = _reply(twin)
    response = _post(twin, approval_id, "approve", {"edited": edited})
    assert response.status_code == 422 and response.json()["field"] == next(iter(edited))
    assert twin.app.store.get_approval(approval_id).status == "pending" and run.done == []


def test_an_edited_reply_goes_out_with_the_edited_text(twin: Served, run: Recorder):
    approval_id = _reply(twin)
    response = _post(twin, approval_id, "approve", {"edited": {"body": "Sure, 06:00. Online from 05:45."}})
    assert response.status_code == 200 and response.json()["status"] == "executed"
    [sent] = run.done
    assert (
        sent.payload["body"] == "Sure, 06:00. Online from 05:45."
        and sent.payload["draft_body"] == "Sure, 06:00 works."
    )


def test_a_meeting_moved_to_an_offered_time_keeps_its_length(twin: Served, run: Recorder):
    approval_id, start = _meeting(twin)
    detail = twin.client.get(f"/api/approvals/{approval_id}", headers=twin.headers("owner")).json()
    [choice] = next(f for f in detail["editable"] if f["name"] == "start")["choices"]
    response = _post(twin, approval_id, "approve", {"edited": {"start": choice["start"]}})
    assert response.status_code == 200, response.text
    [booked] = run.done
    assert datetime.fromisoformat(booked.payload["start"]) == start + timedelta(days=1)
    assert datetime.fromisoformat(booked.payload["end"]) == start + timedelta(days=1, minutes=30)


def test_a_failed_approval_is_retried_once_then_listed_in_history(twin: Served, run: Recorder):
    approval_id = _reply(twin)
    run.failing = "smtp.northwind.example: connection refused"
    failed = _post(twin, approval_id, "approve")
    assert failed.status_code == 502 and "connection refused" in failed.json()["error"]
    assert twin.app.store.get_approval(approval_id).status == "failed"

    run.failing = ""
    retried = _post(twin, approval_id, "retry")
    assert retried.status_code == 200 and retried.json()["status"] == "executed"
    assert [a.id for a in run.done] == [approval_id]
    assert _post(twin, approval_id, "retry").status_code == 400 and len(run.done) == 1  # executed: not again
    history = twin.client.get("/api/approvals/history?limit=5", headers=twin.headers("owner")).json()
    assert history[0]["id"] == approval_id and history[0]["status"] == "executed"


def test_a_failed_approval_can_be_dismissed_and_only_a_failed_one(twin: Served, run: Recorder):
    approval_id, _ = _meeting(twin)
    assert _post(twin, approval_id, "dismiss").status_code == 400  # pending: approve or reject it instead
    run.failing = "calendar server down"
    assert _post(twin, approval_id, "approve").status_code == 502
    dismissed = _post(twin, approval_id, "dismiss", {"reason": "booked by phone"})
    assert dismissed.status_code == 200 and dismissed.json()["status"] == "dismissed"
    assert _post(twin, approval_id, "retry").status_code == 400 and run.done == []
    [entry] = [
        e for e in twin.app.store.audit_entries(200, kind="dismissed") if e.detail["action_id"] == approval_id
    ]
    assert entry.actor == "dana@northwind.example" and entry.detail["reason"] == "booked by phone"


def test_one_approval_reads_in_full(twin: Served, run: Recorder):
    approval_id = _reply(twin)
    detail = twin.client.get(f"/api/approvals/{approval_id}", headers=twin.headers("owner")).json()
    assert set(detail) == {"approval", "editable", "provenance", "reason", "original"}
    assert detail["approval"]["id"] == approval_id and detail["reason"] == detail["approval"]["reason"]
    assert [(f["name"], f["label"], f["input"], f["value"]) for f in detail["editable"]] == [
        ("body", "Text", "text", "Sure, 06:00 works."),
        ("subject", "Subject", "line", "Re: cutover"),
    ]
    assert detail["provenance"] == [
        {"label": "Targets from", "sources": ["someone you know"]},
        {"label": "Content from", "sources": ["someone you know"]},
    ]
    assert "someone you know" in detail["reason"] and "known_person" not in detail["reason"]
    assert detail["original"] is None  # no mail or chat message behind this one


def test_each_decision_says_how_many_still_wait_and_today_counts_them_once(twin: Served):
    owner = twin.headers("owner")
    queued = [_reply(twin) for _ in range(10)]
    waiting = twin.app.store.count_approvals("pending")
    today = twin.client.get("/today", headers=owner).text
    assert f'<span class="count">{waiting}</span>' in today  # the navigation's badge
    assert f"Needs your decision ({waiting})" in today and f"All {waiting} waiting" in today
    decide = today.split('id="decide"')[1].split("</section>")[0]
    assert decide.count('href="/approvals/') == 8  # the oldest few; the rest a click away
    rejected = _post(twin, queued[0], "reject", {"reason": ""})
    assert rejected.status_code == 200 and rejected.headers["X-Waiting-Approvals"] == str(waiting - 1)
    refused = _post(twin, queued[1], "approve", {"edited": {"nonsense": "x"}})
    assert refused.status_code == 422 and "X-Waiting-Approvals" not in refused.headers  # nothing was decided
    for left in twin.app.store.approvals("pending"):
        twin.app.gate.reject(left.id, by="dana@northwind.example", reason="")
    assert 'class="count"' not in twin.client.get("/approvals", headers=owner).text.split("<main>")[0]
