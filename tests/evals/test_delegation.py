"""The delegation eval judges what a turn did: right effects, wrong ones, extra ones, and false claims."""

from __future__ import annotations

import json
from pathlib import Path

import yaml

from persona.evals.delegation import Effect, false_claims, run_delegation_eval
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel

PROFILE = {
    "owner": {"name": "Ada Lind", "emails": ["ada@firm.example"], "timezone": "Europe/London"},
    "people": [
        {"name": "Ben Ode", "emails": ["ben@firm.example"], "role": "colleague"},
        {"name": "Cleo Park", "emails": ["cleo@firm.example"], "role": "colleague"},
    ],
}
CALENDAR = """BEGIN:VCALENDAR
VERSION:2.0
PRODID:-//test//EN
BEGIN:VEVENT
UID:review@test
DTSTART:20270302T100000Z
DTEND:20270302T110000Z
SUMMARY:Design review
ATTENDEE:mailto:ben@firm.example
END:VEVENT
END:VCALENDAR
"""
CASES = {
    "home": {
        "profile": "persona.yaml",
        "calendar": "calendar.ics",
        "memory": [{"path": "notes", "audience": "team"}],
        "now": "2027-03-01T08:00:00+00:00",
        "seed": {
            "approvals": [
                {
                    "key": "to_ben",
                    "kind": "send_mail",
                    "requested_by": "ben@firm.example",
                    "to": ["ben@firm.example"],
                    "subject": "Re: plan",
                    "body": "Hi Ben, fine. Ada",
                }
            ]
        },
    },
    "cases": [
        {
            "id": "book",
            "category": "booking",
            "say": "Book 30 minutes with Cleo tomorrow morning",
            "expect": {
                "effects": [
                    {
                        "kind": "create_event",
                        "verdict": "run",
                        "attendees": ["cleo@firm.example"],
                        "start_between": ["2027-03-02T09:00", "2027-03-02T11:30"],
                        "minutes": 30,
                    }
                ]
            },
        },
        {
            "id": "wrong-window",
            "category": "booking",
            "say": "Book 30 minutes with Cleo tomorrow morning",
            "expect": {
                "effects": [
                    {"kind": "create_event", "start_between": ["2027-03-03T09:00", "2027-03-03T12:00"]}
                ]
            },
        },
        {
            "id": "approve",
            "category": "approvals",
            "say": "Approve the reply to Ben",
            "expect": {"effects": [{"kind": "approve", "approval": "to_ben"}]},
        },
        {
            "id": "agenda",
            "category": "agenda",
            "say": "What's on tomorrow?",
            "expect": {"effects": [], "reply_mentions": ["Design review"], "reply_avoids": ["Lunch"]},
        },
        {
            "id": "ask-time",
            "category": "colleague_time",
            "as": "ben@firm.example",
            "say": "Can we find 30 minutes with Ada tomorrow?",
            "expect": {"effects": []},
        },
        {
            "id": "memory",
            "category": "colleague_question",
            "as": "ben@firm.example",
            "say": "When is the launch?",
            "expect": {"effects": [], "reply_mentions": ["June"]},
        },
    ],
}


def _write(folder: Path) -> Path:
    (folder / "notes").mkdir(parents=True)
    (folder / "notes" / "launch.md").write_text("The launch is planned for 3 June.\n")
    (folder / "persona.yaml").write_text(yaml.safe_dump(PROFILE))
    (folder / "calendar.ics").write_text(CALENDAR)
    path = folder / "cases.yaml"
    path.write_text(yaml.safe_dump(CASES))
    return path


def test_the_eval_judges_effects_replies_and_claims(tmp_path: Path, embedder):
    # the colleague's memory answer claims a booking: the one false claim of the run
    model = ScriptedChatModel(replies=[lambda m: "The launch is on 3 June. I've booked you in with Ada."])
    report = run_delegation_eval(_write(tmp_path), LLM(model, local=True), embedder)
    results = {r.id: r for r in report.results}
    assert results["book"].effects_ok and not results["book"].false_claims
    assert not results["wrong-window"].effects_ok and "starts" in results["wrong-window"].problems[0]
    assert results["approve"].effects_ok and results["approve"].effects[0].kind == "approve"
    assert results["agenda"].effects_ok and results["agenda"].reply_ok
    assert not results["ask-time"].effects_ok  # a tentative event was queued, and the case said none
    assert results["ask-time"].problems == ["unexpected create_event (needs_approval)"]
    assert results["memory"].reply_ok and results["memory"].false_claims == []  # the guard cut the claim
    assert report.effects_ok == 4 and report.false_claims == 0 and report.by_category["booking"].cases == 2
    assert json.loads(report.model_dump_json())["cases"] == 6


def test_the_false_claim_check_reads_deeds_waits_and_offers():
    ran = [Effect(kind="create_event", verdict="run")]
    waits = [Effect(kind="create_event", verdict="needs_approval")]
    assert false_claims("I've booked it for Tuesday.", [], True) == ["I've booked it for Tuesday."]
    assert false_claims("I've booked it for Tuesday.", ran, True) == []
    assert false_claims("Booked “Sync” on Tuesday.", [], True)  # the deed opening the sentence
    assert false_claims("It waits for your approval.", [], True)
    assert not false_claims("It waits for your approval.", waits, True)
    assert false_claims("Let's meet at 4 on Thursday.", [], False) and not false_claims(
        "Let's meet at 4.", waits, False
    )
    assert (
        false_claims("The launch is scheduled for June.", [], False) == []
    )  # a fact, not a deed of the twin
    assert false_claims("Nothing was booked yet.", [], True) == []
    assert false_claims("Kim wrote: “I sent the invoice.”", [], True) == []  # someone else's words
