"""The owner asking about an action is not asking for it: a question is answered, a request is done.

The model here is tempted to act: whatever it is asked to route, it picks the first skill on offer that
changes something. Questions must still end in an answer, without an action and without "Do you want
me to…?"; requests, plain or polite, still run their skill.
"""

from __future__ import annotations

import asyncio
import json
import re

import pytest
from agent_helpers import make_app

from persona.agent.choose import choose
from persona.agent.toolbox import BY_NAME
from persona.agent.understand import read
from persona.events import Principal
from persona.home import Home

QUESTIONS = [
    "By when do I have to reply to the job offer?",
    "By when do I have to reply to the job offer? Be specific.",
    "Do I need to answer Sam today?",
    "Do I have to reply to Kim's mail?",
    "Should I accept Sam's meeting?",
    "Should I book a call with Kim before Friday?",
    "What should I tell Sam about the budget?",
    "When do I have to get back to Kim?",
    "Must I reply to Sam before Friday? In detail please.",
    "Is it ok to decline Kim's invite?",
    "Tell me whether I should reply to Kim.",
    "What did Sam ask me?",
    "What did Sam ask me? Be specific.",
    "Have I answered Kim yet?",
]
READS = [  # questions with a skill that only reads: an extra "be specific" does not change it
    ("What's on my calendar tomorrow? Be specific.", "agenda"),
    ("Be brief. What's on tomorrow?", "agenda"),
    ("When could I fit an hour on Wednesday? In detail please.", "free_time"),
    ("What's waiting for my approval?", "approvals"),
]
REQUESTS = [
    ("Reply to Sam that Tuesday works", "reply_mail"),
    ("Could you reply to Sam that Tuesday works?", "reply_mail"),
    ("Please answer Kim's mail: we accept", "reply_mail"),
    ("Could you tell Kim I'm running late?", "write_mail"),
    ("Would you mind letting Alex know I'll be late?", "write_mail"),
    ("Sam asked about the budget. Tell him it's approved.", "write_mail"),
    ("Sam asked me about lunch. Could you book 30 minutes with him on Friday?", "book_meeting"),
    ("Can you book a call with Sam tomorrow?", "book_meeting"),
    ("Can I get 30 minutes with Sam on Friday?", "book_meeting"),
    ("Approve the reply to Kim.", "approvals"),
]


def _eager_to_act(messages) -> str:
    """A router that picks the first skill on offer that would change something, else the answer."""
    offered = re.findall(r"^- (\w+):", messages[0].content, re.MULTILINE)
    acting = [s for s in offered if BY_NAME[s].acts]
    return json.dumps({"skill": (acting or ["recall"])[0]})


def _chosen(agent_home: Home, text: str):
    app, model = make_app(agent_home, [_eager_to_act] * 3)
    owner = Principal.owner(app.profile)
    return asyncio.run(choose(app, owner, read(text, owner, app.profile), None)), model


@pytest.mark.parametrize("text", QUESTIONS)
def test_a_question_about_an_action_is_answered_not_acted_on(agent_home: Home, text: str):
    choice, _ = _chosen(agent_home, text)
    assert not (choice.skill and BY_NAME[choice.skill].acts), choice
    assert choice.question is None, choice.say  # not "Do you want me to write that reply?"


@pytest.mark.parametrize(("text", "skill"), READS)
def test_how_to_answer_does_not_change_what_is_asked(agent_home: Home, text: str, skill: str):
    choice, model = _chosen(agent_home, text)
    assert choice.skill == skill and model.calls == []


@pytest.mark.parametrize(("text", "skill"), REQUESTS)
def test_a_request_plain_or_polite_is_done(agent_home: Home, text: str, skill: str):
    choice, model = _chosen(agent_home, text)
    assert (choice.skill, choice.by) == (skill, "rules") and model.calls == []
