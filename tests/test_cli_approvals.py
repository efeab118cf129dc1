"""`persona approvals` checks an edit as the web desk does: a bad one is one line and the approval waits;
a failed approval is retried or dismissed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from test_cli import run

from persona.channels.calendar.delivery import tentative_event_payload
from persona.events import Action, ActionKind, Decision, Principal, Verdict
from persona.home import Home
from persona.profile import Profile
from persona.store import StateStore

START = (datetime.now(UTC) + timedelta(days=5)).replace(hour=9, minute=0, second=0, microsecond=0)


def _meeting(home: Home, profile: Profile, status: str = "pending") -> str:
    """A tentative meeting Sam asked for, waiting for the owner (or failed when carried out)."""
    sam = Principal.resolve(profile, "sam@northwind.example")
    later = START + timedelta(days=1)
    action = Action(
        kind=ActionKind.CREATE_EVENT,
        requested_by=sam,
        targets=[sam.address],
        payload=tentative_event_payload(
            "Cutover review",
            START.isoformat(),
            (START + timedelta(minutes=30)).isoformat(),
            profile.owner.emails[0],
            [sam.address],
            [(later, later + timedelta(minutes=30))],
        ),
        summary="tentative “Cutover review” with Sam",
    )
    store = StateStore(home.state_db)
    store.enqueue_approval(action, Decision(verdict=Verdict.APPROVE, reason="Sam asked for the owner's time"))
    if status != "pending":
        store.set_approval(action.id, status, receipt="the calendar server was down")
    return action.id


def _one_line_error(proc) -> str:
    lines = (proc.stdout + proc.stderr).splitlines()
    assert proc.returncode == 1 and len(lines) == 1 and "Traceback" not in lines[0], proc.stdout + proc.stderr
    return lines[0]


def test_a_bad_edit_is_one_line_and_the_meeting_still_waits(home: Home, profile: Profile):
    approval_id = _meeting(home, profile)
    bad_time = _one_line_error(
        run(home.root, "approvals", "approve", approval_id[:8], "--start", "Tuesday 15:00", check=False)
    )
    assert "start" in bad_time and "'Tuesday 15:00' is not a date and time" in bad_time
    no_text = _one_line_error(
        run(home.root, "approvals", "approve", approval_id[:8], "--body", "Hi", check=False)
    )
    assert "body: is not editable in create_event; editable: start, end" in no_text
    assert StateStore(home.state_db).get_approval(approval_id).status == "pending"


def test_show_offers_the_other_free_times_and_approve_moves_the_meeting(home: Home, profile: Profile):
    approval_id = _meeting(home, profile)
    shown = run(home.root, "approvals", "show", approval_id[:8]).stdout
    later = (START + timedelta(days=1)).isoformat()
    assert "start (edit with --start)" in shown and "also free: " in shown and later in shown
    assert "summary:\n" in shown and "summary (edit" not in shown
    done = run(home.root, "approvals", "approve", approval_id[:8], "--start", later).stdout
    assert f"{approval_id[:8]} executed" in done
    approval = StateStore(home.state_db).get_approval(approval_id)
    assert datetime.fromisoformat(approval.effective_action.payload["end"]) == START + timedelta(
        days=1, minutes=30
    )


def test_a_failed_approval_is_retried_or_dismissed(home: Home, profile: Profile):
    retried, dismissed = _meeting(home, profile, "failed"), _meeting(home, profile, "failed")
    assert f"{retried[:8]} executed: event" in run(home.root, "approvals", "retry", retried[:8]).stdout
    again = _one_line_error(run(home.root, "approvals", "retry", retried[:8], check=False))
    assert "is executed, not failed" in again
    assert f"{dismissed[:8]} dismissed" in run(home.root, "approvals", "dismiss", dismissed[:8]).stdout
    store = StateStore(home.state_db)
    assert (
        store.get_approval(dismissed).status == "dismissed"
        and store.get_approval(retried).status == "executed"
    )
    assert {e.kind for e in store.audit_entries(20)} >= {"retried", "dismissed", "executed"}
