"""The desk's rules: triage and approval rules read and saved as a form's rows, through the persona's file."""

from __future__ import annotations

import pytest
from server_helpers import Served

from persona.channels.email.base import IncomingMail
from persona.events import Action, ActionKind, Principal, Provenance, Verdict
from persona.policy import decide
from persona.profile import load_profile
from persona.skills.triage import rule_triage

COMMENTED = "# Dana's twin: edited by hand\n"


@pytest.fixture(scope="module")
def served(twin: Served) -> Served:
    path = twin.app.home.profile_path
    path.write_text(COMMENTED + path.read_text() + "triage:\n  notify_senders: [ci@northwind.example]\n")
    twin.client.put("/api/persona", json={"yaml": path.read_text()}, headers=twin.headers("owner"))
    return twin


def _put(served: Served, body: dict):
    return served.client.put("/api/rules", json=body, headers=served.headers("owner"))


def _mail(sender: str, subject: str = "hello") -> IncomingMail:
    return IncomingMail(
        key="k", message_id="<m@x>", thread_id="t", from_addr=sender, subject=subject, body="text"
    )


def _reply_to_sam(served: Served) -> Action:
    sam = Principal.resolve(served.app.profile, "sam@northwind.example")
    return Action(
        kind=ActionKind.SEND_MAIL,
        requested_by=sam,
        targets=["sam@northwind.example"],
        target_provenance=[Provenance.of(sam)],
        payload_provenance=[Provenance.of(sam)],
        payload={"subject": "Re: hi", "body": "Hi Sam"},
    )


def test_rules_are_read_as_rows_with_their_choices(served: Served):
    body = served.client.get("/api/rules", headers=served.headers("owner")).json()
    assert body["triage"] == [{"match": "sender", "value": "ci@northwind.example", "label": "notify"}]
    assert body["approval_rules"] == []
    assert body["choices"]["labels"] == ["ignore", "notify", "respond"]
    assert body["choices"]["decisions"] == ["allow"] and "send_mail" in body["choices"]["actions"]


def test_saved_rules_change_the_file_and_what_triage_and_policy_do(served: Served):
    assert decide(_reply_to_sam(served), served.app.profile).verdict is Verdict.APPROVE
    assert rule_triage(served.app.profile, [], _mail("deals@promo.example")) is None
    response = _put(
        served,
        {
            "triage": [
                {"match": "sender", "value": "ci@northwind.example", "label": "notify"},
                {"match": "sender", "value": " promo.example ", "label": "ignore"},
                {"match": "keyword", "value": "outage", "label": "respond"},
            ],
            "approval_rules": [{"action": "send_mail", "to": ["role:colleague"], "decision": "allow"}],
        },
    )
    assert response.status_code == 200, response.text
    assert {"match": "sender", "value": "promo.example", "label": "ignore"} in response.json()["triage"]
    text = served.app.home.profile_path.read_text()
    assert text.startswith(COMMENTED)  # the owner's comments outside the rules stay
    saved = load_profile(served.app.home.profile_path)
    assert saved.triage.ignore_senders == ["promo.example"] and saved.triage.respond_keywords == ["outage"]
    assert [(r.action, r.to) for r in saved.approval_rules] == [("send_mail", ["role:colleague"])]
    assert saved.people == served.app.profile.people  # the rest of the profile as it was
    # the running twin uses them at once
    assert rule_triage(served.app.profile, [], _mail("deals@promo.example")).label.value == "ignore"
    assert (
        rule_triage(served.app.profile, [], _mail("x@y.example", "Outage in eu-1")).label.value == "respond"
    )
    decision = decide(_reply_to_sam(served), served.app.gate.profile)
    assert (decision.verdict, decision.rule) == (Verdict.RUN, "owner-rule")
    assert served.app.store.audit_entries(5)[-1].kind == "rules_edited"


A_RULE = {"action": "send_mail", "to": ["role:family"]}
A_ROW = {"match": "sender", "value": "a@b.example", "label": "ignore"}


@pytest.mark.parametrize(
    ("body", "named"),
    [
        ({"triage": [], "approval_rules": [A_RULE, A_RULE | {"to": []}]}, "approval rule 2, `to`"),
        ({"triage": [], "approval_rules": [A_RULE | {"decision": "refuse"}]}, "approval rule 1, `decision`"),
        ({"triage": [], "approval_rules": [A_RULE | {"action": ""}]}, "approval rule 1, `action`"),
        ({"triage": [A_ROW | {"label": "archive"}], "approval_rules": []}, "triage rule 1, `label`"),
        ({"triage": [A_ROW, A_ROW | {"value": "   "}], "approval_rules": []}, "triage rule 2, `value`"),
        ({"triage": [A_ROW | {"match": "domain"}], "approval_rules": []}, "triage rule 1, `match`"),
        ({"triage": [A_ROW | {"extra": 1}], "approval_rules": []}, "triage rule 1, `extra`"),
        ({"triage": "ignore everything", "approval_rules": []}, "rules, `triage`"),
        ({"triage": [A_ROW]}, "rules, `approval_rules`"),  # left out would mean "remove them all"
    ],
)
def test_a_bad_value_is_a_422_naming_the_rule_and_field_and_nothing_is_saved(served: Served, body, named):
    before = served.app.home.profile_path.read_bytes()
    response = _put(served, body)
    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error.startswith(named) and "\n" not in error
    assert served.app.home.profile_path.read_bytes() == before


def test_the_page_is_a_form_of_the_rules(served: Served):
    page = served.client.get("/rules", headers=served.headers("owner")).text
    assert '<table class="rules" id="triage">' in page and '<table class="rules" id="approval">' in page
    assert '<th scope="col">Then</th>' in page and 'href="/persona"' in page
    assert '<option value="respond"' in page and '<option value="send_mail"' in page
