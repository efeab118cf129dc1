"""No reply claims an action that did not happen, and no draft commits the owner to a date nobody gave."""

from __future__ import annotations

from agent_helpers import SAM, STRANGER, make_app, say, talk

from persona.agent.truth import false_claims, truthful
from persona.events import ActionKind, Verdict
from persona.skills.claims import action_claims, unsourced_times
from persona.skills.turn import Done


def _done(kind: ActionKind, verdict: Verdict) -> Done:
    return Done(id="a1", kind=kind, verdict=verdict, summary="")


def test_claims_are_read_with_their_tense_and_negation():
    kinds = lambda text: [(c.kind, c.done) for c in action_claims(text)]
    assert kinds("I've booked 30 minutes with Sofia for Tuesday.") == [("book", True)]
    assert kinds("Booked for Tuesday at 10.") == [("book", True)]
    assert kinds("I'll send the invite and let Sam know.") == [("send", False), ("invite", False)]
    assert kinds("Sure, Dana. Let's meet at 4 PM on Thursday.") == [("offer_time", False)]
    assert kinds("It is not booked until Dana approves.") == []
    assert kinds("I haven't sent anything yet.") == []
    assert kinds("Shall I pass your question on to Dana?") == []
    assert kinds("I can pass a message on if you like.") == []  # an offer, not a promise


def test_claims_need_actions_of_their_kind():
    booked = "I've booked the meeting."
    assert false_claims(booked, []) and false_claims(
        booked, [_done(ActionKind.CREATE_EVENT, Verdict.APPROVE)]
    )
    assert not false_claims(booked, [_done(ActionKind.CREATE_EVENT, Verdict.RUN)])
    promise = "I'll add it to the calendar once Dana approves."
    assert not false_claims(promise, [_done(ActionKind.CREATE_EVENT, Verdict.APPROVE)])
    assert false_claims("I've passed it on to Dana.", [])
    assert not false_claims("I've passed it on to Dana.", [_done(ActionKind.CREATE_EVENT, Verdict.APPROVE)])
    text, cut = truthful("The cutover is on Sunday. I've sent Sam the plan.", [], "fallback")
    assert text == "The cutover is on Sunday." and len(cut) == 1


def test_a_model_that_claims_a_booking_in_a_memory_answer_is_cut(agent_home):
    app, _ = make_app(agent_home, ["Hi Sam, I'll book 30 minutes with you on Tuesday. Let's meet at 4 PM."])
    reply = say(app, SAM, "What do you know about the rollback plan?")
    assert "book" not in reply.text.lower() and "4 PM" not in reply.text
    assert reply.blocked.startswith("claims:") and reply.asks  # it offers to pass the question on instead
    assert app.store.approvals(None) == [] and reply.actions == []


def test_the_offer_to_pass_a_question_on_is_kept_when_accepted(agent_home):
    app, _ = make_app(agent_home, ["I've told Dana already."])
    first, second = talk(app, STRANGER, "What is Dana's home address?", "yes please")
    assert "Shall I pass your question on" in first.text and first.actions == []
    assert [a.kind for a in second.actions] == [ActionKind.LEAVE_MESSAGE]
    assert app.store.messages()[0].text == "What is Dana's home address?"


def test_an_owner_answer_that_only_claims_is_replaced(agent_home):
    app, _ = make_app(agent_home, ["Done! I've cancelled it and emailed everyone."])
    reply = say(app, None, "What did we decide about the offsite?")
    assert reply.text == "I don't have an answer to that in what I know." and reply.actions == []


def test_a_blocked_turn_does_not_block_the_next_one(agent_home):
    app, _ = make_app(agent_home, ["I've booked it.", "The cutover starts at six."])
    first, second = talk(app, SAM, "What is the plan?", "And the cutover?")
    assert first.blocked and not second.blocked and second.text == "The cutover starts at six."


def test_unsourced_times_are_found_however_they_are_written():
    sources = "Can we meet on Dec 15 at 3pm? The form is due Friday."
    assert unsourced_times("See you on 15 December at 15:00; the form by Friday.", sources) == set()
    assert unsourced_times("We expect it by 18 December, around 9am, or next week.", sources) == {
        "18 December",
        "9am",
        "next week",
    }


def test_a_fact_from_memory_is_no_claim_of_the_twins_own(agent_home):
    from persona.memory.store import MemoryItem
    from persona.profile import Audience

    app, _ = make_app(
        agent_home, ["The cutover has been moved to Sunday 6 December. I've moved your 1:1 too."]
    )
    app.memory.add(
        [
            MemoryItem.make(
                "Decision: the cutover has been moved to Sunday 6 December.", "knowledge", Audience.OWNER
            )
        ]
    )
    reply = say(app, None, "What happened with the cutover date?")
    assert reply.text == "The cutover has been moved to Sunday 6 December."  # the twin's own claim is cut
