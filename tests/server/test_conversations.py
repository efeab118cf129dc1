"""The owner's Conversations: every principal's chats by person, with the answers the guard held back."""

from __future__ import annotations

import json

from server_helpers import Served, answering

SAM, LEE = "sam@northwind.example", "lee@northwind.example"


def _session(events) -> str:
    return events[0][1]["session"]


def _listed(twin: Served) -> dict[str, dict]:
    groups = twin.client.get("/api/conversations", headers=twin.headers("owner")).json()
    return {g["person"]["address"]: g for g in groups}


def test_every_persons_chats_by_person_latest_first_with_held_back_counts(twin: Served):
    twin.model.replies.extend(
        [answering("The cutover is on 2026-12-08."), answering("The offer is EUR 212,400.")]
    )
    first = _session(twin.chat("colleague_a", "When is the cutover?"))
    blocked = twin.chat("colleague_a", "And the Helix offer?", session=first)
    assert blocked[-1][1]["blocked"] is True
    twin.model.replies.append(answering("Yes, 06:00 CET."))
    second = _session(twin.chat("colleague_a", "Is it at 06:00?"))
    twin.model.replies.append(answering("Hi Lee."))
    lee = _session(twin.chat("colleague_b", "Hello there"))

    groups = twin.client.get("/api/conversations", headers=twin.headers("owner")).json()
    assert [g["person"]["address"] for g in groups][:2] == [LEE, SAM]  # Lee spoke last
    by_person = _listed(twin)
    assert by_person[SAM]["person"] == {"address": SAM, "name": "Sam Okafor", "role": "colleague"}
    sams = by_person[SAM]["conversations"]
    assert [c["id"] for c in sams] == [second, first]  # newest first
    assert sams[1] | {"created": "", "updated": ""} == {
        "id": first,
        "title": "When is the cutover?",
        "created": "",
        "updated": "",
        "messages": 2,
        "held_back": 1,
    }
    assert sams[1]["updated"].endswith("+00:00")  # with its offset, for the reader's own clock
    assert sams[0]["held_back"] == 0
    assert [c["id"] for c in by_person[LEE]["conversations"]] == [lee]


def test_a_transcript_marks_the_held_back_answer_and_why(twin: Served):
    twin.model.replies.extend([answering("Sure."), answering("It is EUR 212,400, answer by 2026-12-04.")])
    session = _session(twin.chat("colleague_b", "Can you help me?"))
    twin.chat("colleague_b", "What does Helix offer Dana?", session=session)

    response = twin.client.get(
        f"/api/conversations/{session}", params={"person": LEE}, headers=twin.headers("owner")
    )
    assert response.status_code == 200
    shown = response.json()
    assert shown["person"]["name"] == "Lee Park" and shown["conversation"]["held_back"] == 1
    turns = shown["turns"]
    assert [(t["role"], t["held_back"]) for t in turns] == [
        ("human", ""),
        ("ai", ""),
        ("human", ""),
        ("ai", "owner-only details: 2026-12-04, 212,400"),
    ]
    assert "212,400" not in turns[3]["text"]  # what was sent instead; the stopped answer is not kept
    [entry] = [
        e
        for e in twin.app.store.audit_entries(20, "guard_blocked")
        if e.detail.get("turn") == 3 and session in e.detail["thread"]
    ]
    assert entry.actor == LEE and entry.detail["thread"] == f"chat:{LEE}:{session}"


def test_a_conversation_is_found_only_under_its_own_person(twin: Served):
    twin.model.replies.append(answering("Hi Sam."))
    session = _session(twin.chat("colleague_a", "Hi"))
    for person in (LEE, "nobody@elsewhere.example"):
        response = twin.client.get(
            f"/api/conversations/{session}", params={"person": person}, headers=twin.headers("owner")
        )
        assert response.status_code == 404 and response.json()["error"]
    page = twin.client.get(f"/conversations/{session}", params={"person": SAM}, headers=twin.headers("owner"))
    assert (
        page.status_code == 200 and "Sam Okafor" in page.text and session not in page.text.split("<main>")[1]
    )


def test_the_conversations_page_groups_by_person(twin: Served):
    twin.model.replies.append(answering("Hello Dana."))
    twin.chat("owner", "Good morning")
    page = twin.client.get("/conversations", headers=twin.headers("owner"))
    assert page.status_code == 200
    assert "You, with your twin" in page.text and "Sam Okafor" in page.text
    assert 'href="/conversations/' in page.text and "?person=sam%40northwind.example" in page.text


def test_each_answer_is_read_back_with_what_it_did_and_what_became_of_it(twin: Served):
    """A reload of the chat and the owner's transcript show the actions under the answer that took or queued
    them; for the owner, a queued one with its approval's status now."""
    owner = twin.headers("owner")
    note = {"subject": "Q2 numbers", "body": "Hi Sam,\n\nCould you send me the Q2 numbers?\n\nDana"}
    twin.model.replies.append(lambda messages: json.dumps(note))
    events = twin.chat("owner", "Send Sam a note asking for the Q2 numbers")
    session, live = _session(events), events[-1][1]["actions"]
    [queued] = [a for a in live if a["verdict"] == "needs_approval"]
    assert queued["kind"] == "send_mail"

    def read_back() -> list[dict]:
        return twin.client.get(f"/api/sessions/{session}", headers=owner).json()["messages"]

    status = lambda now: [a | {"status": now if a["verdict"] == "needs_approval" else ""} for a in live]
    assert [(m["role"], m["actions"]) for m in read_back()] == [("human", []), ("ai", status("pending"))]
    decided = twin.client.post(f"/api/approvals/{queued['id']}/reject", json={"reason": ""}, headers=owner)
    assert decided.status_code == 200
    assert read_back()[1]["actions"] == status("rejected")
    transcript = twin.client.get(
        f"/api/conversations/{session}", params={"person": "dana@northwind.example"}, headers=owner
    ).json()
    assert transcript["turns"][1]["actions"] == status("rejected")
    page = twin.client.get(
        f"/conversations/{session}", params={"person": "dana@northwind.example"}, headers=owner
    )
    assert f'href="/approvals/{queued["id"]}"' in page.text and "Sam Okafor: Q2 numbers" in page.text

    # someone else reads back what the chat showed them live, nothing more
    left = twin.chat("colleague_b", "Please tell Dana the invoice 4411 is paid")
    [message] = left[-1][1]["actions"]
    kept = twin.client.get(f"/api/sessions/{_session(left)}", headers=twin.headers("colleague_b")).json()
    assert kept["messages"][1]["actions"] == [message | {"status": ""}] and message["verdict"] == "run"
