"""Request parsing: phrases -> constraints, relative to a fixed message date (Thursday 6 March 2025)."""

from __future__ import annotations

import json
from datetime import date, datetime, time
from zoneinfo import ZoneInfo

import pytest

from persona.errors import LLMUnavailable
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.profile import Person
from persona.skills.meeting_request import MeetingConstraints, parse_meeting_request

BERLIN = ZoneInfo("Europe/Berlin")
SENT = datetime(2025, 3, 6, 9, 0, tzinfo=BERLIN)  # a Thursday

AFTERNOON = ("12:00", "18:00")
MORNING = ("06:00", "12:00")
DAY = ("00:00", None)

# phrase -> (minutes, zone, [(day, start, end)])
TABLE = {
    "next Tuesday or Thursday afternoon, 45 minutes": (
        45,
        "Europe/Berlin",
        [("2025-03-11", *AFTERNOON), ("2025-03-13", *AFTERNOON)],
    ),
    "Can we have a quick 15 min call tomorrow morning?": (15, "Europe/Berlin", [("2025-03-07", *MORNING)]),
    "Let's meet next week for an hour, but not Monday": (
        60,
        "Europe/Berlin",
        [(f"2025-03-{d}", *DAY) for d in (11, 12, 13, 14)],
    ),
    "Call on Tuesday at 3pm ET about the budget": (
        30,
        "America/New_York",
        [("2025-03-11", "15:00", "15:30")],
    ),
    "Tuesday morning or Thursday afternoon, 1.5 hours": (
        90,
        "Europe/Berlin",
        [("2025-03-11", *MORNING), ("2025-03-13", *AFTERNOON)],
    ),
    "Can we meet on March 14 between 2 and 4pm? 30 minutes": (
        30,
        "Europe/Berlin",
        [("2025-03-14", "14:00", "16:00")],
    ),
    "Half an hour on the 12th around 10?": (30, "Europe/Berlin", [("2025-03-12", "09:30", "11:00")]),
    "Sync Tuesday or Wednesday next week, 1h": (
        60,
        "Europe/Berlin",
        [("2025-03-11", *DAY), ("2025-03-12", *DAY)],
    ),
    "Coffee early next week?": (30, "Europe/Berlin", [("2025-03-10", *DAY), ("2025-03-11", *DAY)]),
    "A 20-minute chat this Thursday at 4": (20, "Europe/Berlin", [("2025-03-06", "16:00", "16:20")]),
    "Tuesday: call for an hour and a half after 2pm": (90, "Europe/Berlin", [("2025-03-11", "14:00", None)]),
    "Can we talk Friday before noon, 2 hours?": (120, "Europe/Berlin", [("2025-03-07", "00:00", "12:00")]),
    "call end of the week, London time": (30, "Europe/London", [("2025-03-07", *DAY)]),
    "Meet in two weeks on Monday afternoon, 45 mins": (45, "Europe/Berlin", [("2025-03-17", *AFTERNOON)]),
}


@pytest.mark.parametrize("phrase", sorted(TABLE))
def test_phrase_to_constraints(phrase):
    minutes, zone, windows = TABLE[phrase]
    got = parse_meeting_request(phrase, SENT, BERLIN)
    assert not got.needs_clarification, got.question
    assert got.duration_minutes == minutes
    assert got.zone == zone
    assert [
        (str(w.day), w.start.strftime("%H:%M"), w.end.strftime("%H:%M") if w.end else None)
        for w in got.windows
    ] == windows


CLARIFY = {
    "Could we chat sometime?": "Which day",
    "Can we block Wednesday for the workshop?": "How long",
    "30 minutes or an hour on Friday?": "30 minutes or 60 minutes",
    "Tuesday morning after 3pm, quick call": "contradict",
    "Let's have a call.": "Which day",
    "How about the Wednesday after next, 30 min?": "Which day exactly",  # beyond the rules, no LLM given
}


@pytest.mark.parametrize("phrase", sorted(CLARIFY))
def test_ambiguous_requests_ask_instead_of_guessing(phrase):
    got = parse_meeting_request(phrase, SENT, BERLIN)
    assert got.needs_clarification and got.windows == []
    assert CLARIFY[phrase] in got.question


def test_default_duration_is_marked():
    got = parse_meeting_request("Can we meet tomorrow?", SENT, BERLIN)
    assert (got.duration_minutes, got.duration_defaulted) == (30, True)
    assert not parse_meeting_request("45 min tomorrow?", SENT, BERLIN).duration_defaulted


def test_weekday_conventions():
    monday = datetime(2025, 3, 10, 9, tzinfo=BERLIN)
    assert parse_meeting_request("call Tuesday", monday, BERLIN).windows[0].day == date(2025, 3, 11)
    assert parse_meeting_request("call next Tuesday", monday, BERLIN).windows[0].day == date(2025, 3, 18)
    assert parse_meeting_request("call this Monday", monday, BERLIN).windows[0].day == date(2025, 3, 10)
    assert parse_meeting_request("call Monday", monday, BERLIN).windows[0].day == date(2025, 3, 17)
    # a qualifier holds for the whole list of days it starts, and only for that list
    listed = parse_meeting_request("call next Tuesday or Thursday", monday, BERLIN).windows
    assert [w.day for w in listed] == [date(2025, 3, 18), date(2025, 3, 20)]
    separate = parse_meeting_request("call next Tuesday; Thursday works too", monday, BERLIN).windows
    assert [w.day for w in separate] == [date(2025, 3, 13), date(2025, 3, 18)]


def test_title_and_attendees():
    people = [Person(name="Sam Okafor", emails=["sam@northwind.example"], role="colleague")]
    got = parse_meeting_request(
        "Can Sam and lee@partner.example join a call about the Q3 roadmap next Tuesday?",
        SENT,
        BERLIN,
        people=people,
        sender="ana@partner.example",
        owner_emails=["dana@northwind.example"],
    )
    assert got.title == "Q3 roadmap"
    assert got.attendees == ["ana@partner.example", "lee@partner.example", "sam@northwind.example"]


def test_windows_become_dst_correct_intervals():
    got = parse_meeting_request("call Monday March 31 at 9am", datetime(2025, 3, 27, tzinfo=BERLIN), BERLIN)
    (interval,) = got.intervals()
    assert interval.start == datetime(2025, 3, 31, 9, tzinfo=BERLIN)
    assert interval.start.utcoffset().total_seconds() == 7200


def scripted(*replies: str) -> tuple[LLM, ScriptedChatModel]:
    model = ScriptedChatModel(replies=list(replies))
    return LLM(model, local=True), model


def test_llm_step_reads_what_rules_cannot_and_is_grounded():
    llm, model = scripted(
        json.dumps(
            {
                "when_phrase": "in a fortnight",
                "dates": ["2025-03-20"],
                "part_of_day": "morning",
                "clear": True,
            }
        )
    )
    got = parse_meeting_request("A 30 minute call in a fortnight?", SENT, BERLIN, llm=llm)
    assert got.understood_by == "llm" and not got.needs_clarification
    assert [(w.day, w.start, w.end) for w in got.windows] == [(date(2025, 3, 20), time(6), time(12))]
    assert "Thu 2025-03-20" in model.calls[0][-1].text
    schema = model.options[0]["response_format"]["schema"]
    assert (
        schema["properties"]["dates"]["items"]["enum"][0] == "2025-03-06"
    )  # the decoder can only pick listed dates
    assert llm.usage["schedule"].calls == 1


@pytest.mark.parametrize(
    "answer",
    [
        {
            "when_phrase": "next full moon",
            "dates": ["2025-03-14"],
            "part_of_day": "any",
            "clear": True,
        },  # not quoted
        {"when_phrase": "in a fortnight", "dates": [], "part_of_day": "any", "clear": True},
        {"when_phrase": "in a fortnight", "dates": ["2025-03-20"], "part_of_day": "any", "clear": False},
    ],
)
def test_llm_answers_that_are_not_grounded_become_a_question(answer):
    llm, _ = scripted(json.dumps(answer))
    got = parse_meeting_request("A call in a fortnight or so?", SENT, BERLIN, llm=llm)
    assert got.needs_clarification and "Which day" in got.question


def test_dates_off_the_list_are_refused_by_the_schema():
    llm, model = scripted(
        *[
            json.dumps(
                {
                    "when_phrase": "in a fortnight",
                    "dates": ["2026-01-05"],
                    "part_of_day": "any",
                    "clear": True,
                }
            )
        ]
        * 2
    )
    with pytest.raises(LLMUnavailable, match="MeetingDates"):
        parse_meeting_request("A call in a fortnight?", SENT, BERLIN, llm=llm)
    assert len(model.calls) == 2  # one correction round, then a clear error instead of a guess


def test_vague_requests_do_not_reach_the_llm():
    llm, model = scripted()
    assert parse_meeting_request("Let's chat soon!", SENT, BERLIN, llm=llm).needs_clarification
    assert model.calls == []


def test_constraints_are_plain_data():
    got = parse_meeting_request("call tomorrow afternoon", SENT, BERLIN)
    assert MeetingConstraints.model_validate_json(got.model_dump_json()) == got
    assert got.part_of_day == "afternoon"
