"""Principals x skills: nobody but the owner can run an owner skill, whatever a model answers.

Three walls, each tested on its own: the tools offered to a principal, the toolbox's own check when a
tool is run, and the whole twin when a scripted model insists on an owner skill.
"""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from agent_helpers import ALEX, KIM, NOW, SAM, STRANGER, audited, make_app, say

from persona.agent.toolbox import BY_NAME, OWNER, TOOLS, run, tools_for
from persona.errors import PersonaError
from persona.events import Principal, Provenance
from persona.skills.turn import Turn

OTHERS = [SAM, ALEX, KIM, STRANGER]
OWNER_TOOLS = [t.name for t in TOOLS if t.who == OWNER]


def _principal(app, address):
    return Principal.resolve(app.profile, address)


@pytest.mark.parametrize("address", OTHERS)
def test_no_owner_skill_is_offered_to_anyone_else(agent_home, address):
    app, _ = make_app(agent_home)
    offered = {t.name for t in tools_for(_principal(app, address))}
    assert offered.isdisjoint(OWNER_TOOLS)
    assert "recall" in offered and "leave_message" in offered and "request_meeting" in offered
    assert ("availability" in offered) is (address != STRANGER)  # strangers see nothing of the calendar


def test_the_owner_gets_every_owner_skill_and_none_of_the_visitors(agent_home):
    app, _ = make_app(agent_home)
    offered = {t.name for t in tools_for(_principal(app, None))}
    assert set(OWNER_TOOLS) <= offered and offered.isdisjoint(
        {"request_meeting", "leave_message", "availability"}
    )


@pytest.mark.parametrize("address", OTHERS)
@pytest.mark.parametrize("tool", OWNER_TOOLS)
def test_running_an_owner_tool_for_anyone_else_raises(agent_home, address, tool):
    app, _ = make_app(agent_home)
    principal = _principal(app, address)
    turn = Turn(
        app=app,
        principal=principal,
        provenance=Provenance.of(principal),
        text="cancel everything",
        event_id="e",
        channel="chat",
        session="s",
        now=NOW,
    )
    with pytest.raises(PersonaError, match="not available"):
        run(BY_NAME[tool], turn, BY_NAME[tool].args())


def _insisting(skill: str):
    """A model that always picks `skill`, even where the schema does not offer it."""
    return lambda messages: json.dumps({"skill": skill})


@pytest.mark.parametrize("address", OTHERS)
@pytest.mark.parametrize("skill", ["cancel_meeting", "book_meeting", "write_mail", "approvals", "remember"])
def test_a_model_picking_an_owner_skill_for_a_visitor_changes_nothing(agent_home, address, skill):
    # the words carry only a weak cue, so the model is asked; it answers with an owner skill, twice
    app, model = make_app(agent_home, [_insisting(skill), _insisting(skill)])
    before = app.calendar.events(NOW, NOW + timedelta(days=7))
    reply = say(app, address, "The Friday sync, fyi, needs sorting out")
    assert len(model.calls) == 2 and reply.actions == [] and reply.asks  # it asks before doing anything
    for kind in ("create_event", "move_event", "cancel_event", "send_mail", "remember"):
        assert audited(app, kind) == []
    assert app.calendar.events(NOW, NOW + timedelta(days=7)) == before
    assert app.store.approvals(None) == []
    # the enum the model was constrained to never held the owner skill
    schema = model.options[0]["response_format"]["schema"]
    assert skill not in schema["properties"]["skill"]["enum"]


@pytest.mark.parametrize("address", [SAM, STRANGER])
@pytest.mark.parametrize(
    "text",
    [
        "Cancel Dana's budget sync on Friday",
        "Move my 1:1 with Dana to Thursday",
        "Approve the pending reply please",
        "Email Kim that the contract is signed",
        "Remember that Dana agreed to give me Friday off",
    ],
)
def test_owner_only_requests_from_others_become_a_message_for_the_owner(agent_home, address, text):
    app, _ = make_app(agent_home)
    before = app.calendar.events(NOW, NOW + timedelta(days=7))
    reply = say(app, address, text)
    assert [a.kind.value for a in reply.actions] == ["leave_message"]
    assert app.calendar.events(NOW, NOW + timedelta(days=7)) == before
    assert app.store.approvals(None) == [] and app.store.messages()[0].text
    assert "can't do that" in reply.text and "passed your message on" in reply.text


def test_the_policy_refuses_owner_only_actions_even_if_a_skill_proposed_them(agent_home):
    from persona.events import Action, ActionKind, Verdict
    from persona.policy import decide

    app, _ = make_app(agent_home)
    for address in OTHERS:
        principal = _principal(app, address)
        for kind in (ActionKind.REMEMBER, ActionKind.CORRECT_TRIAGE, ActionKind.CANCEL_EVENT):
            action = Action(
                kind=kind,
                requested_by=principal,
                payload={"text": "x"},
                payload_provenance=[Provenance.of(principal)],
            )
            assert decide(action, app.profile).verdict is Verdict.REFUSE
        leave = Action(kind=ActionKind.LEAVE_MESSAGE, requested_by=principal, payload={"text": "hi"})
        assert decide(leave, app.profile).verdict is Verdict.RUN


def test_a_hosted_model_picks_among_the_same_tools_bound_natively(agent_home):
    from langchain_core.messages import AIMessage

    from persona.llm.client import LLM

    def calls(name: str):
        return lambda messages: AIMessage(content="", tool_calls=[{"name": name, "args": {}, "id": "call-1"}])

    app, model = make_app(agent_home, [calls("leave_message")])
    app.__dict__["llm"] = LLM(model, local=False)  # a hosted endpoint: native tool calling
    reply = say(app, SAM, "The Friday sync, fyi, needs sorting out")
    bound = {tool["function"]["name"] for tool in model.options[0]["tools"]}
    assert bound == {t.name for t in tools_for(_principal(app, SAM))} and bound.isdisjoint(OWNER_TOOLS)
    assert model.options[0]["tool_choice"] == "required"
    # the pick agrees with the rules' weak cue: it runs, and only what a colleague may cause
    assert [a.kind.value for a in reply.actions] == ["leave_message"]
