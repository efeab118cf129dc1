import sqlite3
from pathlib import Path

import pytest

from persona.errors import PersonaError
from persona.events import Action, ActionKind, Decision, Principal, Verdict
from persona.store import StateStore


@pytest.fixture
def store(tmp_path: Path) -> StateStore:
    return StateStore(tmp_path / "state.sqlite")


def test_audit_chain_detects_edit_and_delete(store: StateStore):
    for i in range(5):
        store.audit("decision", "dana@x.example", "send_mail", {"i": i})
    assert store.verify_audit().ok and store.verify_audit().entries == 5

    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE audit SET detail = '{\"i\": 99}' WHERE seq = 3")
    check = store.verify_audit()
    assert not check.ok and check.first_bad_seq == 3 and "altered" in check.problem


def test_audit_chain_detects_removed_row(store: StateStore):
    for i in range(4):
        store.audit("executed", "twin", "save_draft", {"i": i})
    with sqlite3.connect(store.path) as db:
        db.execute("DELETE FROM audit WHERE seq = 2")
    check = store.verify_audit()
    assert not check.ok and check.first_bad_seq == 3


def test_approval_compare_and_set(store: StateStore, profile):
    action = Action(
        kind=ActionKind.SEND_MAIL, requested_by=Principal.owner(profile), targets=["sam@northwind.example"]
    )
    store.enqueue_approval(action, Decision(verdict=Verdict.APPROVE, reason="test"))
    store.enqueue_approval(action, Decision(verdict=Verdict.APPROVE, reason="again"))  # idempotent
    assert [a.id for a in store.approvals()] == [action.id]
    assert store.set_approval(action.id, "approved", by="dana", expect="pending")
    assert not store.set_approval(action.id, "approved", by="dana", expect="pending")
    assert store.get_approval(action.id[:6]).status == "approved"
    with pytest.raises(PersonaError):
        store.get_approval("nope")


def test_ledger_compare_and_set(store: StateStore):
    assert store.ledger_set("mail:1", "fetched", expect="")
    assert not store.ledger_set("mail:1", "fetched", expect="")  # already there
    assert store.ledger_set("mail:1", "drafted", "draft-id", expect="fetched")
    assert store.ledger_get("mail:1") == ("drafted", "draft-id")
    assert store.ledger_keys("mail:") == [("mail:1", "drafted", "draft-id")]


def test_prefixes_match_literally_not_as_like_wildcards(store: StateStore):
    store.ledger_set("mail:a_b@host", "done", "")
    store.ledger_set("mail:axb@host", "done", "")
    assert [key for key, _, _ in store.ledger_keys("mail:a_")] == ["mail:a_b@host"]
    assert store.ledger_keys("mail:%") == []


def test_times_come_from_the_apps_clock_in_utc_and_ties_keep_their_order(tmp_path: Path, profile):
    from datetime import datetime
    from zoneinfo import ZoneInfo

    from persona.app import App
    from persona.home import Home
    from persona.profile import save_profile
    from persona.settings import Settings

    home = Home(tmp_path / "home").ensure()
    save_profile(profile, home.profile_path)
    frozen = datetime(2026, 11, 30, 7, 45, tzinfo=ZoneInfo("Europe/Berlin"))
    store = App(home, Settings(), clock=lambda: frozen).store
    assert store.audit("decision", "dana", "send_mail").ts == "2026-11-30T06:45:00.000000+00:00"
    owner = Principal.owner(profile)
    actions = [
        Action(kind=ActionKind.SEND_MAIL, requested_by=owner, targets=[f"{n}@x.example"])
        for n in ("kim", "sam", "alex")
    ]
    for action in actions:
        store.enqueue_approval(action, Decision(verdict=Verdict.APPROVE, reason="test"))
    pending = store.approvals()
    assert {a.created for a in pending} == {"2026-11-30T06:45:00.000000+00:00"}
    assert [a.id for a in pending] == [a.id for a in actions]  # created at the same instant: in queued order
