"""What the rules read in a request, before any model: the skill its words point to, and how surely."""

from __future__ import annotations

import pytest
from agent_helpers import SAM, STRANGER

from persona.agent.choose import answer_to
from persona.agent.understand import Sure, read
from persona.events import Principal
from persona.profile import Profile
from persona.skills.turn import Option, Question

OWNER_SAYS = [
    ("What's on tomorrow?", "agenda"),
    ("how does next Monday look", "agenda"),
    ("Anything on Thursday?", "agenda"),
    ("When is my next 1:1 with Sam?", "agenda"),
    ("Am I free Friday at 2?", "free_time"),
    ("Any gap for an hour on Wednesday?", "free_time"),
    ("Set up a call with Sam next week", "book_meeting"),
    ("25 minutes with Kim on Tuesday morning", "book_meeting"),
    ("grab 30 w/ sam fri am", "book_meeting"),
    ("Block two hours on Thursday for deep work", "book_meeting"),
    ("Push the budget sync to next week", "move_meeting"),
    ("Could you bring my 1:1 with Sam forward an hour?", "move_meeting"),
    ("Call off Friday's budget sync", "cancel_meeting"),
    ("skip my 1:1 tomorrow", "cancel_meeting"),
    ("Drop Kim a line about the invoice", "write_mail"),
    ("Let Sam know the release slipped", "write_mail"),
    ("Email kim@vendor.example that the PO is approved", "write_mail"),
    ("Reply to Kim's mail and say we accept", "reply_mail"),
    ("Forward the invoice mail to Sam", "forward_mail"),
    ("What needs my approval?", "approvals"),
    ("Reject the reply to Kim", "approvals"),
    ("The draft to Sam is good to go", "approvals"),
    ("Remember that the printer code is 4411", "remember"),
    ("Note for the team: demo day moves to the 14th", "remember"),
    ("Give me the morning briefing", "brief"),
    ("Did anyone leave a message?", "messages"),
    ("Newsletters from digest@weekly.example are noise", "correct_triage"),
    ("Never reply to mail from billing@vendor.example", "correct_triage"),
]

OTHERS_SAY = [
    ("Can we find half an hour with Dana on Friday?", "request_meeting"),
    ("I'd like to set up a call with Dana next week", "request_meeting"),
    ("Could Dana spare 20 minutes tomorrow?", "request_meeting"),
    ("Is Dana around on Thursday afternoon?", "availability"),
    ("Please let Dana know the build is green", "leave_message"),
    ("Can you pass on that the client called?", "leave_message"),
]


@pytest.mark.parametrize(("text", "skill"), OWNER_SAYS)
def test_what_the_owner_asks_for_is_read_surely(profile: Profile, text: str, skill: str):
    reading = read(text, Principal.owner(profile), profile)
    assert reading.cues.get(skill) is Sure.STRONG, reading.cues
    assert min(reading.strong(), key=lambda s: reading.positions[s]) == skill


@pytest.mark.parametrize(("text", "skill"), OTHERS_SAY)
def test_what_others_ask_for_is_read_surely(profile: Profile, text: str, skill: str):
    reading = read(text, Principal.resolve(profile, SAM), profile)
    assert min(reading.strong(), key=lambda s: reading.positions[s]) == skill


@pytest.mark.parametrize(
    "text",
    [
        "What did we decide about the vendor contract?",
        "Who owns the on-call rota?",
        "Is Sam moving house?",
        "Tell me about the migration plan",
    ],
)
def test_questions_carry_no_sure_cue(profile: Profile, text: str):
    for who in (None, SAM):
        assert read(text, Principal.resolve(profile, who), profile).strong() == []


def test_what_only_the_owner_may_do_is_marked_when_others_ask(profile: Profile):
    stranger = Principal.resolve(profile, STRANGER)
    assert read("Cancel Dana's meeting with me on Friday", stranger, profile).owner_only
    assert not read("Can we meet on Friday?", stranger, profile).owner_only


def _asked(**kw) -> Question:
    return Question(
        skill="book_meeting", args={"people": ["Sam"]}, text="Book a meeting with Sam", ask="?", **kw
    )


def test_answers_to_the_twins_questions(profile: Profile):
    owner = Principal.owner(profile)
    options = [
        Option(label="Tue 1 Dec 14:00", args={"start": "a"}),
        Option(label="Wed 2 Dec 10:00", args={"start": "b"}),
    ]
    said = lambda text: read(text, owner, profile)
    assert answer_to(_asked(options=options), said("the second one")).args == {"start": "b"}
    assert answer_to(_asked(options=options), said("Wednesday's")).args == {"start": "b"}
    assert answer_to(_asked(options=options), said("yes")).args == {"start": "a"}
    assert answer_to(_asked(), said("no thanks")).say.startswith("OK")
    completed = answer_to(_asked(), said("Thursday at 3"))
    assert completed.skill == "book_meeting" and completed.text == "Book a meeting with Sam Thursday at 3"
    assert answer_to(_asked(confirm=True), said("What's on tomorrow?")) is None  # a new request
    assert answer_to(_asked(), said("Cancel the budget sync")) is None


def test_a_question_of_its_own_is_no_answer_to_the_twins_question(profile: Profile):
    reading = read("Any news on the migration?", Principal.owner(profile), profile)
    assert answer_to(_asked(), reading) is None
    assert answer_to(_asked(), read("How about 30 minutes?", Principal.owner(profile), profile)) is not None


def test_names_are_found_in_one_pass_whatever_the_number_of_people(profile: Profile):
    from persona.skills.people import _index, people_named

    many = profile.model_copy(
        update={
            "people": [
                *profile.people,
                *(
                    type(profile.people[0])(name=f"Person{n} Surname{n}", emails=[f"p{n}@x.example"])
                    for n in range(500)
                ),
            ]
        }
    )
    named = people_named(many, "Ask Person7 and sam about Surname499's plan; not Will, but will")
    assert [n.candidates for n in named] == [["p7@x.example"], ["sam@northwind.example"], ["p499@x.example"]]
    assert _index(many) is _index(many)  # built once for a profile, not for every message
