"""Decide, then write: which decisions the facts allow, and whether a written reply carries one out."""

from __future__ import annotations

import pytest

from persona.skills.reply_decision import Decision, Facts, Plan, allowed, plan_problem


@pytest.mark.parametrize(("facts", "options"), [
    (Facts(), ["answer", "accept", "decline", "ask_back", "redirect", "acknowledge"]),
    (Facts(cold=True), ["acknowledge"]),
    (Facts(cold=True, meeting=True, free_in_window=True), ["acknowledge"]),  # a stranger is never offered time
    (Facts(meeting=True, free_in_window=True), ["accept", "decline", "redirect"]),
    (Facts(meeting=True, free_later=True), ["reschedule", "decline", "redirect"]),
    (Facts(meeting=True), ["decline", "redirect", "ask_back"]),  # no free time in the week after either
    (Facts(meeting=True, unclear=True), ["ask_back", "decline", "redirect"]),
])
def test_the_facts_narrow_the_decisions(facts: Facts, options: list[str]) -> None:
    assert [o.value for o in allowed(facts)] == options


def _plan(decision: str) -> Plan:
    return Plan(decision=Decision(decision), reason="", by="llm")


@pytest.mark.parametrize(("decision", "body", "wrong"), [
    ("decline", "Thanks for the invite, I'd be happy to attend. See you there!", "accepts"),
    ("decline", "Sorry, I can't make it on the 20th.", ""),
    ("decline", "I can't join, but how about we set up a call next month?", "offers to meet"),
    ("accept", "Unfortunately I won't be able to attend.", "declines"),
    ("accept", "Count me in. I'll be there at 7.", ""),
    ("reschedule", "Thursday is full, but Friday at 12:00 works.", ""),
    ("acknowledge", "Thanks, noted. Let's meet next week to discuss.", "offers to meet"),
    ("acknowledge", "Thanks for sending this over.", ""),
    ("acknowledge", "I'm open to a short call next week to see if there's a fit.", "offers to meet"),
    ("answer", "The budget is 120k. Happy to meet if useful.", ""),  # an answer may offer more
])
def test_a_reply_that_does_not_carry_out_the_decision_is_named(decision: str, body: str, wrong: str) -> None:
    problem = plan_problem(body, _plan(decision))
    assert (wrong in problem and problem) if wrong else problem == ""
