"""Decide, then write: which decisions the facts allow, and whether a written reply carries one out."""

from __future__ import annotations

import pytest

from persona.skills.reply_decision import (
    Decision,
    Facts,
    Plan,
    Situation,
    allowed,
    by_precedent,
    decision_in,
    habit,
    past_decisions,
    plan_problem,
)


@pytest.mark.parametrize(
    ("facts", "options"),
    [
        (Facts(), ["answer", "accept", "decline", "ask_back", "redirect", "acknowledge"]),
        (Facts(cold=True), ["acknowledge"]),
        (
            Facts(cold=True, meeting=True, free_in_window=True),
            ["acknowledge"],
        ),  # a stranger is never offered time
        (Facts(meeting=True, free_in_window=True), ["accept", "decline", "redirect"]),
        (Facts(meeting=True, free_later=True), ["reschedule", "decline", "redirect"]),
        (Facts(meeting=True), ["decline", "redirect", "ask_back"]),  # no free time in the week after either
        (Facts(meeting=True, unclear=True), ["ask_back", "decline", "redirect"]),
    ],
)
def test_the_facts_narrow_the_decisions(facts: Facts, options: list[str]) -> None:
    assert [o.value for o in allowed(facts)] == options


def _plan(decision: str) -> Plan:
    return Plan(decision=Decision(decision), reason="", by="llm")


@pytest.mark.parametrize(
    ("decision", "body", "wrong"),
    [
        ("decline", "Thanks for the invite, I'd be happy to attend. See you there!", "accepts"),
        ("decline", "Sorry, I can't make it on the 20th.", ""),
        ("decline", "Thank you for the kind invitation to the seminar.", "does not say no"),
        ("decline", "Ken is not able to attend this year.", ""),
        ("decline", "I can't join, but how about we set up a call next month?", "offers to meet"),
        ("accept", "Unfortunately I won't be able to attend.", "declines"),
        ("accept", "Count me in. I'll be there at 7.", ""),
        ("reschedule", "Thursday is full, but Friday at 12:00 works.", ""),
        ("acknowledge", "Thanks, noted. Let's meet next week to discuss.", "offers to meet"),
        ("acknowledge", "Thanks for sending this over.", ""),
        ("acknowledge", "I'm open to a short call next week to see if there's a fit.", "offers to meet"),
        ("answer", "The budget is 120k. Happy to meet if useful.", ""),  # an answer may offer more
    ],
)
def test_a_reply_that_does_not_carry_out_the_decision_is_named(decision: str, body: str, wrong: str) -> None:
    problem = plan_problem(body, _plan(decision))
    assert (wrong in problem and problem) if wrong else problem == ""


@pytest.mark.parametrize(
    ("reply", "decision"),
    [
        ("Unfortunately, Sam will not be able to attend.", "decline"),
        ("Sorry, these dates don't work for me. Regrettably I'm travelling.", "decline"),
        ("Count me in, see you there!", "accept"),
        ("She would be happy to do so. Thanks for asking.", "accept"),
        ("I have forwarded your message to Bill in finance; he will contact you.", "redirect"),
        ("Please contact Maria, she handles the travel budget.", "redirect"),
        ("How about Friday at 3 instead?", "reschedule"),
        ("Does Ken need to be on these e-mails?", "ask_back"),
        ("Thanks, got it.", "acknowledge"),
        ("The invoice was paid on Monday and the receipt is in the shared folder.", "answer"),
        ("Perfect!!", None),
        ("", None),
    ],
)
def test_what_a_past_reply_decided_is_read_by_rules(reply: str, decision: str | None) -> None:
    assert decision_in(reply) == (Decision(decision) if decision else None)


def _past(reply: str, similarity: float) -> Situation:
    return Situation(
        sender="a@x.example", subject="Invitation", mail="Join us?", reply=reply, similarity=similarity
    )


def test_the_owners_habit_in_similar_mail_orders_the_options() -> None:
    precedents = [
        _past("Unfortunately, Ken will not be able to attend.", 0.8),
        _past("Ken can't make it, he will be out of the country.", 0.7),
        _past("Count me in!", 0.75),
        _past("Thanks, received.", 0.3),
    ]
    tally = past_decisions(precedents)
    assert max(tally, key=tally.__getitem__) is Decision.DECLINE
    options = allowed(Facts(meeting=True, free_in_window=True))
    assert by_precedent(options, tally) == [Decision.DECLINE, Decision.ACCEPT, Decision.REDIRECT]
    assert by_precedent(options, {}) == options  # no history: the rules' order


def test_a_clear_habit_decides_and_a_split_one_does_not() -> None:
    options = allowed(Facts(meeting=True, free_in_window=True))
    declines = [
        _past("Unfortunately, Ken will not be able to attend.", 0.8),
        _past("Ken can't make it, he will be out of the country.", 0.7),
    ]
    clear = past_decisions([*declines, _past("Count me in!", 0.4)])
    assert habit(options, clear) is Decision.DECLINE  # 1.5 of 1.9
    split = past_decisions([*declines, _past("Count me in!", 0.75), _past("See you there!", 0.5)])
    assert habit(options, split) is None
    assert habit(options, past_decisions(declines[:1])) is None  # one reply is an anecdote
    # a decision the facts do not allow is no habit here: the cold sender is only ever acknowledged
    assert habit([Decision.ACKNOWLEDGE], past_decisions(declines)) is None
