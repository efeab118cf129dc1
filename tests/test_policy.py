"""The policy matrix: who asked × where targets and content came from × action kind."""

import pytest
from test_executors import MAIL

from persona.actions import ActionGate
from persona.events import Action, ActionKind, Principal, Provenance, Source, Verdict
from persona.policy import decide
from persona.store import StateStore

OWNER_SAID = [Provenance(source=Source.OWNER)]
FROM_MAIL_BODY = [Provenance(source=Source.STRANGER, ref="msg-1")]


def act(
    profile,
    kind,
    requester="dana@northwind.example",
    targets=("sam@northwind.example",),
    target_prov=OWNER_SAID,
    payload_prov=OWNER_SAID,
):
    return Action(
        kind=kind,
        requested_by=Principal.resolve(profile, requester),
        targets=list(targets),
        target_provenance=list(target_prov),
        payload_provenance=list(payload_prov),
    )


@pytest.mark.parametrize(
    "kind",
    [
        ActionKind.FORWARD_MAIL,
        ActionKind.DELETE_MAIL,
        ActionKind.SHARE_DOCUMENT,
        ActionKind.DELETE_DOCUMENT,
        ActionKind.CANCEL_EVENT,
        ActionKind.REVEAL_MEMORY,
    ],
)
@pytest.mark.parametrize("requester", ["sam@northwind.example", "who@evil.example", "alex@home.example"])
def test_non_owners_never_cause_destructive_or_exfiltrating_actions(profile, kind, requester):
    assert decide(act(profile, kind, requester=requester), profile).verdict is Verdict.REFUSE


@pytest.mark.parametrize(
    "kind",
    [
        ActionKind.FORWARD_MAIL,
        ActionKind.DELETE_MAIL,
        ActionKind.SEND_MAIL,
        ActionKind.SHARE_DOCUMENT,
        ActionKind.CREATE_EVENT,
        ActionKind.ADD_ATTENDEES,
    ],
)
def test_targets_from_untrusted_text_need_the_owner(profile, kind):
    """A hijacked model working on the owner's task still cannot act on a planted address."""
    action = act(profile, kind, targets=["x@evil.example"], target_prov=FROM_MAIL_BODY)
    decision = decide(action, profile)
    assert decision.verdict is Verdict.APPROVE
    assert "stranger" in decision.reason


def test_owner_instruction_runs(profile):
    assert decide(act(profile, ActionKind.SEND_MAIL), profile).verdict is Verdict.RUN
    assert decide(act(profile, ActionKind.CREATE_EVENT), profile).verdict is Verdict.RUN


def test_reply_drafted_from_a_mail_waits_unless_a_rule_allows(profile):
    sam = act(
        profile,
        ActionKind.SEND_MAIL,
        requester="sam@northwind.example",
        targets=["sam@northwind.example"],
        target_prov=[Provenance(source=Source.KNOWN_PERSON)],
        payload_prov=[Provenance(source=Source.KNOWN_PERSON)],
    )
    assert decide(sam, profile).verdict is Verdict.APPROVE
    alex = act(
        profile,
        ActionKind.SEND_MAIL,
        requester="alex@home.example",
        targets=["alex@home.example"],
        target_prov=[Provenance(source=Source.KNOWN_PERSON)],
        payload_prov=[Provenance(source=Source.KNOWN_PERSON)],
    )
    decision = decide(alex, profile)
    assert decision.verdict is Verdict.RUN and decision.rule == "owner-rule"


def test_strangers_do_not_get_rule_based_auto_send(profile):
    profile.approval_rules[0].to.append("who@evil.example")
    action = act(
        profile,
        ActionKind.SEND_MAIL,
        requester="who@evil.example",
        targets=["who@evil.example"],
        target_prov=FROM_MAIL_BODY,
        payload_prov=FROM_MAIL_BODY,
    )
    assert decide(action, profile).verdict is Verdict.APPROVE


def test_chat_replies_only_to_the_asker(profile):
    ok = act(
        profile, ActionKind.REPLY_CHAT, requester="sam@northwind.example", targets=["sam@northwind.example"]
    )
    assert decide(ok, profile).verdict is Verdict.RUN
    other = act(
        profile, ActionKind.REPLY_CHAT, requester="sam@northwind.example", targets=["alex@home.example"]
    )
    assert decide(other, profile).verdict is Verdict.REFUSE


def test_drafts_stay_inside(profile):
    assert (
        decide(
            act(profile, ActionKind.SAVE_DRAFT, requester="who@evil.example", target_prov=FROM_MAIL_BODY),
            profile,
        ).verdict
        is Verdict.RUN
    )


def test_a_brief_runs_unattended_only_to_the_owner(profile):
    to_owner = act(profile, ActionKind.WRITE_BRIEF, targets=["dana@northwind.example"])
    assert decide(to_owner, profile).verdict is Verdict.RUN
    to_sam = act(profile, ActionKind.WRITE_BRIEF, targets=["dana@northwind.example", "sam@northwind.example"])
    assert decide(to_sam, profile).verdict is Verdict.APPROVE


def test_gate_runs_queues_refuses_and_audits(tmp_path, profile):
    store = StateStore(tmp_path / "s.sqlite")
    sent: list[str] = []
    gate = ActionGate(
        store, profile, {ActionKind.SEND_MAIL: lambda a: sent.append(a.payload["body"]) or "sent"}
    )

    ran = gate.submit(
        act(profile, ActionKind.SEND_MAIL).model_copy(update={"payload": {**MAIL, "body": "hi"}})
    )
    assert ran.receipt == "sent" and sent == ["hi"]

    planted = act(profile, ActionKind.SEND_MAIL, targets=["x@evil.example"], target_prov=FROM_MAIL_BODY)
    planted = planted.model_copy(update={"payload": {**MAIL, "body": "secrets"}})
    assert gate.submit(planted).decision.verdict is Verdict.APPROVE
    assert sent == ["hi"]
    assert [a.id for a in store.approvals()] == [planted.id]

    gate.reject(planted.id, by="dana")
    assert store.get_approval(planted.id).status == "rejected" and sent == ["hi"]

    refused = gate.submit(act(profile, ActionKind.DELETE_MAIL, requester="who@evil.example"))
    assert refused.decision.verdict is Verdict.REFUSE

    kinds = [e.kind for e in store.audit_entries(100)]
    assert kinds.count("decision") == 3 and "executed" in kinds and "rejected" in kinds
    assert store.verify_audit().ok


def test_approved_edit_is_what_goes_out(tmp_path, profile):
    store = StateStore(tmp_path / "s.sqlite")
    sent: list[str] = []
    gate = ActionGate(
        store, profile, {ActionKind.SEND_MAIL: lambda a: sent.append(a.payload["body"]) or "sent"}
    )
    action = act(
        profile,
        ActionKind.SEND_MAIL,
        requester="sam@northwind.example",
        targets=["sam@northwind.example"],
        target_prov=[Provenance(source=Source.KNOWN_PERSON)],
        payload_prov=[Provenance(source=Source.KNOWN_PERSON)],
    )
    action = action.model_copy(update={"payload": {**MAIL, "body": "draft"}})
    gate.submit(action)
    done = gate.approve(action.id, by="dana", edited={"body": "edited by Dana"})
    assert sent == ["edited by Dana"] and done.status == "executed"


def test_owner_event_without_attendees_stays_in_own_calendar(profile):
    owner = Principal.owner(profile)
    from_mail = [Provenance(source=Source.KNOWN_PERSON, ref="mail:14")]
    alone = Action(
        kind=ActionKind.CREATE_EVENT,
        requested_by=owner,
        payload={"title": "Family reunion"},
        payload_provenance=from_mail,
    )
    assert decide(alone, profile).rule == "own-calendar"
    invited = alone.model_copy(
        update={"targets": ["x@elsewhere.example"], "target_provenance": [Provenance(source=Source.OWNER)]}
    )
    assert decide(invited, profile).verdict is Verdict.APPROVE  # attendees would get the untrusted text
    colleague = Principal.resolve(profile, "sam@northwind.example")
    assert decide(alone.model_copy(update={"requested_by": colleague}), profile).verdict is Verdict.APPROVE


def test_content_may_go_back_to_whoever_could_have_written_it(profile):
    """Untrusted content to owner-chosen targets who could have written it runs; one target outside
    its authors, unknown authors, or a target taken from that text still needs the owner."""
    from_mail = [Provenance(source=Source.STRANGER, ref="mail:7", authors=frozenset({"kim@vendor.example"}))]
    back = act(
        profile,
        ActionKind.SEND_MAIL,
        requester="dana@northwind.example",
        targets=["kim@vendor.example"],
        payload_prov=from_mail,
    )
    assert decide(back, profile).verdict is Verdict.RUN
    wider = back.model_copy(update={"targets": ["kim@vendor.example", "sam@northwind.example"]})
    decision = decide(wider, profile)
    assert decision.verdict is Verdict.APPROVE and "content derived from a stranger" in decision.reason
    steered = back.model_copy(update={"target_provenance": from_mail})
    assert decide(steered, profile).verdict is Verdict.APPROVE
    unknown_authors = back.model_copy(
        update={"payload_provenance": [Provenance(source=Source.STRANGER, ref="x")]}
    )
    assert decide(unknown_authors, profile).verdict is Verdict.APPROVE


def test_appending_to_a_shared_file_runs_only_with_its_readers_own_words(profile):
    doc = [Provenance(source=Source.DOCUMENT, ref="file:3", authors=frozenset({"sam@northwind.example"}))]
    append = act(
        profile,
        ActionKind.SHARE_DOCUMENT,
        requester="dana@northwind.example",
        targets=["sam@northwind.example"],
        payload_prov=doc,
    )
    assert decide(append, profile).verdict is Verdict.RUN
    secret = [Provenance(source=Source.KNOWN_PERSON, ref="mail:9", authors=frozenset({"alex@home.example"}))]
    assert (
        decide(append.model_copy(update={"payload_provenance": secret}), profile).verdict is Verdict.APPROVE
    )


def test_removal_runs_only_when_the_owner_named_what_to_remove(profile):
    chosen = act(
        profile,
        ActionKind.DELETE_DOCUMENT,
        requester="dana@northwind.example",
        targets=["11"],
        target_prov=[Provenance(source=Source.OWNER_DATA, ref="file:11")],
        payload_prov=[],
    )
    decision = decide(chosen, profile)
    assert decision.verdict is Verdict.APPROVE and decision.rule == "unnamed-destructive"
    named = chosen.model_copy(update={"target_provenance": chosen.target_provenance + OWNER_SAID})
    assert decide(named, profile).verdict is Verdict.RUN
    mentioned = named.model_copy(update={"target_provenance": named.target_provenance + FROM_MAIL_BODY})
    assert decide(mentioned, profile).rule == "untrusted-destructive"
