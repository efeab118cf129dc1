"""Drafting replies: threading, prompt layout, audience-filtered memory, output checks and fallback."""

from __future__ import annotations

import json
import re
from datetime import datetime

from langchain_core.messages import AIMessage, HumanMessage, SystemMessage

from persona.channels.email.base import RawMail
from persona.channels.email.channel import read_mail, sender_principal
from persona.memory.style import Share, StyleCard
from persona.skills.draft_reply import draft_reply, reply_message_id
from persona.skills.prompt import persona_prefix

GOOD = "Hi Sam,\n\nYes, that works. I'll bring the budget numbers.\n\nBest,\nDana"


def decided(decision: str) -> str:
    """The scripted model's answer to the decision step that comes before the writing."""
    return json.dumps({"reason": "as before", "decision": decision})


def _incoming(
    make_mail, sender="Sam Okafor <sam@northwind.example>", body="Could you send the budget numbers?"
):
    data = make_mail(
        sender,
        "Budget review",
        body,
        message_id="<q1@northwind.example>",
        headers={"References": "<q0@northwind.example>"},
    )
    return read_mail(RawMail(key="k", data=data))


def test_reply_is_threaded_and_addressed_to_the_sender_only(make_app, make_mail):
    app, _ = make_app([decided("answer"), GOOD])
    mail = _incoming(make_mail)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.plan is not None and draft.plan.decision == "answer" and draft.plan.by == "llm"
    assert draft.to == "sam@northwind.example"
    assert draft.subject == "Re: Budget review"
    assert draft.in_reply_to == "<q1@northwind.example>"
    assert draft.references == ["<q0@northwind.example>", "<q1@northwind.example>"]
    assert draft.body == GOOD and not draft.fallback
    assert draft.meeting is None
    assert reply_message_id(mail.message_id, "dana@northwind.example").endswith("@northwind.example>")


def test_meeting_request_gets_the_first_free_slot_of_the_owners_calendar(make_app, make_mail):
    from persona.channels.calendar import CalEvent

    proposed = "Hi Sam,\n\nThursday at 14:00 works, I've pencilled it in.\n\nBest,\nDana"
    app, model = make_app([decided("accept"), proposed])
    berlin = app.profile.zone
    # Thursday 26 November: busy 12:00-14:00 local, so the first 45 free afternoon minutes start at 14:00
    app.calendar.create(
        CalEvent(
            uid="lunch@t",
            summary="Lunch",
            start=datetime(2026, 11, 26, 12, 0, tzinfo=berlin),
            end=datetime(2026, 11, 26, 14, 0, tzinfo=berlin),
        )
    )
    mail = _incoming(make_mail, body="Could we meet Thursday afternoon for 45 minutes to go over the budget?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    meeting = draft.meeting
    assert meeting is not None and meeting.duration_minutes == 45 and meeting.part_of_day == "afternoon"
    assert [w.day.isoformat() for w in meeting.windows] == ["2026-11-26"]  # the Thursday after Tue 24 Nov
    assert draft.slot is not None and draft.slot.start.astimezone(berlin) == datetime(
        2026, 11, 26, 14, 0, tzinfo=berlin
    )
    options = model.options[0]["response_format"]["schema"]["properties"]["decision"]["enum"]
    assert options == ["accept", "decline", "redirect"]  # a free slot: nothing to move, nothing to ask
    assert model.options[0]["temperature"] == 0.0  # greedy: the same mail gets the same decision each run
    task = model.calls[1][-1].text
    assert "free on Thursday 26 November from 14:00 to 14:45" in task and "pencilled" in task
    # a yes that proposes no time holds none: only what the reply offers is pencilled in
    app, _ = make_app([decided("accept"), GOOD])  # the same home: its calendar still holds the lunch
    unproposed = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert unproposed.body == GOOD and unproposed.slot is None and unproposed.alternatives == []


def test_a_meeting_asked_at_a_full_time_is_moved_to_the_next_free_one_or_declined(make_app, make_mail):
    from persona.channels.calendar import CalEvent

    no = "Hi Sam,\n\nSorry, I can't make Thursday.\n\nBest,\nDana"
    moved = "Hi Sam,\n\nThursday is full; how about Friday at 12:00?\n\nBest,\nDana"
    for decision, reply in (("reschedule", moved), ("decline", no)):
        app, model = make_app([decided(decision), reply])
        berlin = app.profile.zone
        app.calendar.create(
            CalEvent(
                uid=f"offsite-{decision}@t",
                summary="Offsite",
                start=datetime(2026, 11, 26, 8, 0, tzinfo=berlin),
                end=datetime(2026, 11, 26, 20, 0, tzinfo=berlin),
            )
        )
        mail = _incoming(
            make_mail, body="Could we meet Thursday afternoon for 45 minutes to go over the budget?"
        )
        draft = draft_reply(app, mail, sender_principal(app.profile, mail))
        options = model.options[0]["response_format"]["schema"]["properties"]["decision"]["enum"]
        assert options == ["reschedule", "decline", "redirect"]  # accepting Thursday is not on offer
        assert "full at the asked time" in model.calls[0][-1].text
        task = model.calls[1][-1].text
        if decision == "reschedule":  # the first free afternoon after the offsite, proposed and held
            assert draft.slot is not None and draft.slot.start.astimezone(berlin) == datetime(
                2026, 11, 27, 12, 0, tzinfo=berlin
            )
            assert "Friday 27 November from 12:00 to 12:45" in task and "instead of the asked time" in task
        else:
            assert draft.slot is None and "offer no meeting and no other time" in task


def test_a_vague_meeting_request_makes_the_reply_ask(make_app, make_mail):
    app, model = make_app([decided("ask_back"), GOOD])
    mail = _incoming(make_mail, body="Could we meet soon about the budget?")
    assert draft_reply(app, mail, sender_principal(app.profile, mail)).meeting.needs_clarification
    assert "Which day or days would suit you?" in model.calls[1][-1].text


def test_prompt_order_prefix_exemplars_context_message_instruction(home, make_app, make_mail, list_memory):
    StyleCard(
        samples=5,
        greetings=[Share(text="Hey {name},", share=0.8)],
        signoffs=[Share(text="Cheers, Dana", share=0.7)],
    ).save(home.style_card_path)
    memory = list_memory(
        [
            (
                "Hey Sam, sure, let's do that. Cheers, Dana",
                "exemplar",
                "owner",
                {"recipients": "sam@northwind.example", "subject": "Sync"},
            ),
            ("Q3 budget is 120k, approved by finance.", "knowledge", "team", {"subject": "Budget"}),
            ("Dana's salary review is in March.", "knowledge", "owner", {"subject": "Private"}),
        ]
    )
    app, model = make_app([decided("answer"), GOOD], memory=memory)
    mail = _incoming(make_mail)
    draft_reply(app, mail, sender_principal(app.profile, mail))
    prompt = model.calls[1]
    assert isinstance(prompt[0], SystemMessage)
    assert prompt[0].text.startswith(persona_prefix(app.profile, app.style_card))
    assert "Sam Okafor" in prompt[0].text  # the audience line names who is writing in
    # Exemplars are earlier turns; a colleague may not see owner-only exemplars or facts.
    assert not any(isinstance(m, AIMessage) for m in prompt)
    last = prompt[-1]
    assert isinstance(last, HumanMessage)
    assert "Q3 budget is 120k" in last.text and "salary" not in last.text
    assert (
        last.text.index("<context>")
        < last.text.index("<message>")
        < last.text.index("Write Dana's reply to Sam")
    )
    assert 'Open with "Hey Sam," and close with "Cheers,\nDana"' in last.text
    # only the owner's past decisions are read across audiences, as labels (the words stay out: see below)
    assert {frozenset(q["audiences"]) for q in memory.queries if q["kind"] != "situation"} == {
        frozenset({"team", "public"})
    }
    assert {"recipients": "sam@northwind.example"} in [q["where"] for q in memory.queries]


def test_owner_may_see_own_exemplars_as_earlier_turns(home, profile, make_app, make_mail, list_memory):
    from persona.profile import Person, Role, save_profile

    widened = profile.model_copy(
        update={
            "people": [
                Person(
                    name="Sam Okafor",
                    emails=["sam@northwind.example"],
                    role=Role.COLLEAGUE,
                    may_see=["owner"],
                )
            ]
        }
    )
    save_profile(widened, home.profile_path)
    memory = list_memory(
        [
            (
                "Hey Sam, sure. Cheers, Dana",
                "exemplar",
                "owner",
                {"recipients": "sam@northwind.example", "subject": "Sync"},
            )
        ]
    )
    app, model = make_app([decided("answer"), GOOD], memory=memory)
    mail = _incoming(make_mail)
    draft_reply(app, mail, sender_principal(app.profile, mail))
    turns = model.calls[1]
    assert (
        isinstance(turns[1], HumanMessage) and "Write Dana's mail to sam@northwind.example" in turns[1].text
    )
    assert isinstance(turns[2], AIMessage) and turns[2].text == "Hey Sam, sure. Cheers, Dana"


def test_bad_output_gets_one_corrective_retry(make_app, make_mail):
    app, model = make_app([decided("answer"), "I can't assist with that.", GOOD])
    mail = _incoming(make_mail)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.body == GOOD and not draft.fallback
    assert "refuses" in model.calls[2][-1].text


def test_a_deadline_nobody_gave_is_written_again(make_app, make_mail):
    """The mail, memory and the calendar are what a reply may take a date from: a draft that commits the
    owner to "15 December" on its own is sent back with what was wrong."""
    invented = "Hi Sam,\n\nWe can expect the countersigned form by 15 December.\n\nBest,\nDana"
    app, model = make_app([decided("answer"), invented, GOOD])
    mail = _incoming(make_mail, body="Where are we with the countersigned order form?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.body == GOOD and "15 December" in model.calls[2][-1].text
    sourced = "Hi Sam,\n\nYes, Friday at 14:00 works.\n\nBest,\nDana"
    app, model = make_app([decided("accept"), sourced])
    mail = _incoming(make_mail, body="Could we talk on Friday at 2pm about the order form?")
    assert (
        draft_reply(app, mail, sender_principal(app.profile, mail)).body == sourced and len(model.calls) == 2
    )


def test_two_bad_outputs_fall_back_to_a_holding_reply(make_app, make_mail):
    body = "Can we go over the budget on Thursday? I need the numbers for the board and the plan for hiring."
    app, model = make_app([decided("answer"), "Hi Dana, thanks!", f"Hi Sam, {body}"])
    mail = _incoming(make_mail, body=body)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.fallback
    assert draft.body.startswith("Hi Sam,") and "get back to you" in draft.body
    assert "addressed to Dana" in model.calls[2][-1].text
    assert len(model.calls) == 3


def test_a_length_and_a_day_ask_for_a_meeting_read_from_the_asking_sentence_only(make_app, make_mail):
    """Days mentioned for other reasons (a go/no-go on Friday) are not offered as meeting days."""
    app, _model = make_app([decided("accept"), GOOD])
    body = (
        "With the go/no-go on Friday, can we find 45 minutes next Tuesday or Thursday afternoon to go over"
        " the cutover?\n\nPriya can join either day. Sunday runs from 05:00 to 07:00."
    )
    mail = _incoming(make_mail, body=body)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.meeting is not None and draft.meeting.duration_minutes == 45
    days = {w.day for w in draft.meeting.windows}
    assert {d.strftime("%a") for d in days} >= {"Tue", "Thu"} and "Sun" not in {
        d.strftime("%a") for d in days
    }
    assert all(w.start.hour >= 12 for w in draft.meeting.windows)


def test_on_call_is_not_a_call(make_app, make_mail):
    app, _ = make_app([decided("answer"), GOOD])
    mail = _incoming(make_mail, body="Can you swap my on-call week with Jonas? I'm away from the 14th.")
    assert draft_reply(app, mail, sender_principal(app.profile, mail)).meeting is None


def test_past_replies_to_similar_mail_guide_the_decision_and_the_writing(make_app, make_mail, list_memory):
    memory = list_memory(
        [
            (
                "Budget numbers\nCould you share the budget numbers before Friday?",
                "situation",
                "team",
                {
                    "author": "lee@northwind.example",
                    "subject": "Budget numbers",
                    "date": "2026-10-02T09:00:00+00:00",
                    "reply": "Hi Lee,\n\nPlease ask Finance, they own those.\n\nDana",
                },
            ),
            (
                "Private\nMy review",
                "situation",
                "owner",
                {"author": "x@y.example", "subject": "Private", "reply": "Secret"},
            ),
        ]
    )
    app, model = make_app(
        [decided("redirect"), "Hi Sam,\n\nFinance has them, please ask there.\n\nBest,\nDana"], memory=memory
    )
    mail = _incoming(make_mail)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.plan.decision == "redirect"
    assert draft.plan.evidence == ["your reply to lee@northwind.example about 'Budget numbers' (2026-10-02)"]
    deciding = model.calls[0][-1].text
    assert (
        "Dana replied: Hi Lee, Please ask Finance, they own those. Dana" in deciding
        and "Secret" not in deciding
    )
    assert all("Secret" not in str(m.content) for call in model.calls for m in call)
    writing = model.calls[1]
    assert writing[-3].text.startswith("<message>\nFrom: lee@northwind.example\nSubject: Budget numbers")
    assert writing[-2].text == "Hi Lee,\n\nPlease ask Finance, they own those.\n\nDana"
    assert "point Sam to them" in writing[-1].text


def test_a_decline_that_offers_time_is_written_again(make_app, make_mail):
    offers = "Hi Sam,\n\nI can't do that, but how about a call instead?\n\nBest,\nDana"
    no = "Hi Sam,\n\nI'm afraid I can't help with that one.\n\nBest,\nDana"
    app, model = make_app([decided("decline"), offers, no])
    mail = _incoming(make_mail, body="Would you review our pitch deck for us?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.body == no and "offers to meet" in model.calls[2][-1].text


def test_the_draft_greets_by_first_name_and_signs_once_whatever_the_model_wrote(make_app, make_mail):
    messy = "Hi Kenneth.Lay@enron.example-\n\nThanks, I'll send the numbers over.\n\nBest regards,\nDana\n— D"
    app, _ = make_app([decided("answer"), messy])
    mail = _incoming(
        make_mail, sender='"Lay, Kenneth" <kenneth.lay@enron.example>', body="Can you send the numbers?"
    )
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.body == "Hi Kenneth,\n\nThanks, I'll send the numbers over.\n\nBest,\nDana"


def test_a_cold_pitch_asking_for_time_is_acknowledged_without_a_slot_or_a_model_decision(make_app, make_mail):
    thanks = "Hi Mark,\n\nThanks for reaching out. I'll get back to you if it fits.\n\nBest,\nDana"
    app, model = make_app([thanks])
    mail = _incoming(
        make_mail,
        sender="Mark Stone <mark@growthpartners.example>",
        body="I came across your team. We help platform teams cut cloud costs by 30%. Would you be open"
        " to a quick 20-minute call on Thursday afternoon?",
    )
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.plan.decision == "acknowledge" and draft.plan.by == "rule"
    assert draft.slot is None and len(model.calls) == 1  # the writing only: the rules decided
    assert "offer no meeting" in model.calls[0][-1].text and draft.body == thanks


def test_the_owners_private_replies_decide_by_habit_without_their_words(make_app, make_mail, list_memory):
    """What the owner did with similar mail counts even when the sender may not read those replies; only the
    decision labels are used, never the replies' words. Replies that mostly did one thing decide it."""
    memory = list_memory(
        [
            (
                f"Invitation {n}\nWould you join our panel?",
                "situation",
                "owner",
                {
                    "author": f"host{n}@x.example",
                    "subject": f"Invitation {n}",
                    "reply": f"Regretfully I can't make it. ({n}k)",
                },
            )
            for n in range(3)
        ]
    )
    app, model = make_app(["Hi Sam,\n\nSorry, I can't join this time.\n\nBest,\nDana"], memory=memory)
    mail = _incoming(make_mail, body="Would you join our panel on energy next month?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.plan.decision == "decline" and draft.plan.by == "habit" and len(model.calls) == 1
    assert draft.plan.evidence == []  # none of them may be quoted to Sam
    assert "declines" in model.calls[0][-1].text
    assert all("Regretfully" not in str(m.content) for call in model.calls for m in call)


def test_split_past_replies_order_the_options_and_the_model_picks(make_app, make_mail, list_memory):
    replies = [
        "Regretfully I can't make it.",
        "Unfortunately I won't be able to attend.",
        "Count me in!",
        "I'd be happy to join.",
    ]
    memory = list_memory(
        [
            (
                f"Invitation {n}\nWould you join our panel?",
                "situation",
                "owner",
                {"author": f"host{n}@x.example", "subject": f"Invitation {n}", "reply": reply},
            )
            for n, reply in enumerate(replies)
        ]
    )
    app, model = make_app(
        [decided("decline"), "Hi Sam,\n\nSorry, I can't join this time.\n\nBest,\nDana"], memory=memory
    )
    mail = _incoming(make_mail, body="Would you join our panel on energy next month?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    deciding = model.calls[0]
    options = re.findall(r"^- (\w+):", deciding[0].text, re.MULTILINE)
    assert draft.plan.by == "llm" and set(options[:2]) == {"decline", "accept"}
    assert "mostly with:" in deciding[-1].text


def test_a_no_the_habit_decided_that_the_writer_never_says_becomes_a_plain_no(
    make_app, make_mail, list_memory
):
    """A decline written as a thank-you is sent back; twice, and the draft says the owner's usual no in plain
    words (never a holding reply that promises an answer)."""
    memory = list_memory(
        [
            (
                f"Seminar {n}\nYou are invited to our seminar.",
                "situation",
                "owner",
                {
                    "author": f"host{n}@x.example",
                    "subject": f"Seminar {n}",
                    "reply": "Regretfully I can't make it.",
                },
            )
            for n in range(3)
        ]
    )
    thanks = "Hi Sam,\n\nThank you for the kind invitation to the seminar.\n\nBest,\nDana"
    app, model = make_app([thanks, thanks], memory=memory)
    mail = _incoming(make_mail, body="You are invited to our breakfast seminar. Would you like to join us?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.plan.by == "habit" and "does not say no" in model.calls[1][-1].text
    assert draft.fallback and "won't be able to" in draft.body and "get back to you" not in draft.body
    assert draft.body.startswith("Hi Sam,") and draft.body.rstrip().endswith("Dana")


def test_a_meeting_the_writer_cannot_word_is_proposed_plainly_at_the_free_time(make_app, make_mail):
    """The free slot is the solver's result, not the model's: when both drafts fail the checks, the reply
    proposes exactly that time and it is held, instead of a promise to answer later."""
    no = "Hi Sam,\n\nSorry, I can't make Thursday.\n\nBest,\nDana"
    app, model = make_app([decided("accept"), no, no])
    berlin = app.profile.zone
    mail = _incoming(make_mail, body="Could we meet Thursday afternoon for 45 minutes to go over the budget?")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert "declines, but the decision is to say yes" in model.calls[2][-1].text
    assert draft.fallback and draft.slot is not None
    assert draft.slot.start.astimezone(berlin) == datetime(2026, 11, 26, 12, 0, tzinfo=berlin)
    assert "Thursday 26 November from 12:00 to 12:45 works for me" in draft.body
    assert "pencilled" in draft.body and "get back to you" not in draft.body
    assert draft.body.startswith("Hi Sam,") and draft.body.rstrip().endswith("Dana")


def test_sentences_copied_from_the_mail_are_the_senders_not_the_reply(make_app, make_mail):
    """A small model answers "Sure, Thursday works" and then goes on in the sender's words and signature:
    those sentences are dropped, what the owner says stays."""
    body = (
        "Could we meet Thursday afternoon for 45 minutes? I'd like to walk you through the final runbook"
        " and the rollback steps. Priya said she can join either day.\n\nSam"
    )
    parrot = (
        "Hi Sam,\n\nSure, Thursday at 12:00 works for me. I'll be there to walk you through the final runbook"
        " and the rollback steps. Priya said she can join either day.\n\nSam\n\nBest,\nDana"
    )
    app, model = make_app([decided("accept"), parrot])
    mail = _incoming(make_mail, body=body)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert len(model.calls) == 2 and not draft.fallback
    assert "Sure, Thursday at 12:00 works for me." in draft.body
    assert "runbook" not in draft.body and "Priya" not in draft.body and "\nSam" not in draft.body


def test_an_answer_may_take_up_the_question_but_not_restate_the_mail(make_mail):
    from persona.skills.draft_reply import without_copies

    mail = _incoming(
        make_mail,
        body="Is the window on Sunday from 05:00 to 07:00? The API goes read-only for about 40 minutes then.",
    )
    answer = "Hi Sam,\n\nYes, the window on Sunday is from 05:00 to 07:00.\n\nBest,\nDana"
    assert without_copies(answer, mail, "Dana") == (answer, False)
    restated = "Hi Sam,\n\nYes. The API goes read-only for about 40 minutes then.\n\nBest,\nDana"
    assert without_copies(restated, mail, "Dana") == ("", True)  # a bare "Yes." is too little of its own
    asked_back = (
        "Hi Sam,\n\nIs the window on Sunday from 05:00 to 07:00? I'll check with Lars today.\n\nBest,\nDana"
    )
    assert (
        without_copies(asked_back, mail, "Dana")[0] == "Hi Sam,\n\nI'll check with Lars today.\n\nBest,\nDana"
    )


def test_a_reply_that_is_all_copy_is_written_again_from_what_the_mail_asks(make_app, make_mail):
    """Shown its copy and told so, a small model copies again: the second try sees the mail's asking
    sentences only."""
    body = (
        "Martin's office asked me for the status of the action items for the review. AI-1 to AI-3 are done."
        " What should I say about AI-4? It was due 27 November and I remember it was moved."
    )
    app, model = make_app([decided("answer"), f"Hi Sam,\n\n{body}\n\nThanks,\nSam", GOOD])
    mail = _incoming(make_mail, body=body)
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.body == GOOD and not draft.fallback
    second = model.calls[2]
    shown = second[-1].text.split("<message>")[1].split("</message>")[0]
    assert "What should I say about AI-4?" in shown and "Martin's office" not in shown
    assert not any(isinstance(m, AIMessage) and "Martin's office" in m.text for m in second)


def test_the_models_own_refusal_is_no_owners_no(make_app, make_mail):
    """ "I can't assist with that" refuses nothing named: it is the model's refusal even when the decision
    is to decline, so it is written again; a no that names what it refuses is the owner's."""
    app, model = make_app([decided("decline"), "I'm sorry, but I can't assist with that.", GOOD])
    mail = _incoming(make_mail, body="Could you review the vendor contract by Friday?")
    draft_reply(app, mail, sender_principal(app.profile, mail))
    assert "refuses instead of answering" in model.calls[2][-1].text
    no = "Hi Sam,\n\nSorry, I can't help with the contract review.\n\nBest,\nDana"
    app, model = make_app([decided("decline"), no])
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.body == no and not draft.fallback and len(model.calls) == 2


def test_a_no_only_the_model_picked_that_the_writer_never_says_waits_for_the_owner(make_app, make_mail):
    """The model's own pick may be the wrong one (a thank-you read as an invitation to refuse): when its
    writing does not carry it out twice, the draft only promises an answer."""
    thanks = "Hi Sam,\n\nThanks, that is good to hear.\n\nBest,\nDana"
    app, model = make_app([decided("decline"), thanks, thanks])
    mail = _incoming(make_mail, body="The slides are done and uploaded, thanks for the help!")
    draft = draft_reply(app, mail, sender_principal(app.profile, mail))
    assert draft.plan.by == "llm" and "does not say no" in model.calls[2][-1].text
    assert draft.fallback and "get back to you" in draft.body and "won't be able to" not in draft.body


def test_a_reply_that_speaks_of_its_reader_in_the_third_person_is_written_again(make_app, make_mail):
    about = "Hi Sam,\n\nI don't have any information about Sam's budget numbers yet.\n\nBest,\nDana"
    app, model = make_app([decided("answer"), about, GOOD])
    mail = _incoming(make_mail)
    assert draft_reply(app, mail, sender_principal(app.profile, mail)).body == GOOD
    assert "speaks of Sam as someone else" in model.calls[2][-1].text
    assistant = "Hi Sam,\n\nI'm sorry, but I don't have any information about the budget.\n\nBest,\nDana"
    app, model = make_app([decided("answer"), assistant, GOOD])
    assert draft_reply(app, mail, sender_principal(app.profile, mail)).body == GOOD
    assert "refuses instead of answering" in model.calls[2][-1].text


def test_a_reply_that_speaks_of_the_owner_as_someone_else_is_written_again(make_app, make_mail):
    for stand_in, why in (
        ("As a personal assistant for Dana Reyes, I don't have her calendar.", "in the first person"),
        ("I appreciate your message but as Dana, I am unable to say.", "in the first person"),
        ("I'm Dana, and I am responsible for the budget. It is 120k.", "leave the introduction out"),
        ("I'm Sam Okafor, project coordinator. I'm here to help with the budget.", "who wrote the mail"),
    ):
        app, model = make_app([decided("answer"), f"Hi Sam,\n\n{stand_in}\n\nBest,\nDana", GOOD])
        mail = _incoming(make_mail)
        draft = draft_reply(app, mail, sender_principal(app.profile, mail))
        assert draft.body == GOOD and why in model.calls[2][-1].text
