"""Run one inbox pass in a child process with a scripted model (the exactly-once tests kill it).

Usage: python inbox_runner.py HOME   (mail settings from PERSONA_MAIL_*, crash step from PERSONA_CRASH_AT)
"""

from __future__ import annotations

import json
import re
import sys
from pathlib import Path

from langchain_core.messages import BaseMessage

from persona.agent.inbox import process_inbox
from persona.app import App
from persona.channels.email.delivery import open_email_channel
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.settings import Settings

TRIAGE = '{"reason": "a colleague asks a question", "label": "respond"}'
REPLY = "Hi Sam,\n\nThursday at 10 works for me. I'll bring the numbers.\n\nBest,\nDana"


def answer(messages: list[BaseMessage]) -> str:
    if messages[0].text.startswith("You decide how"):  # the decision step: the first decision it offers
        first = re.search(r"^- (\w+):", messages[0].text, re.MULTILINE)
        return json.dumps({"reason": "as before", "decision": first.group(1) if first else ""})
    return TRIAGE if messages[0].text.startswith("You sort") else REPLY


class NoMemory:
    """These homes have no memory built; drafting goes without exemplars or facts."""

    def search(self, *_args: object, **_kwargs: object) -> list:
        return []


def main(home: Path) -> None:
    app = App(Home(home), Settings(), llm=LLM(ScriptedChatModel(replies=[answer] * 50), local=True))
    app.__dict__["memory"] = NoMemory()
    channel = open_email_channel(app)
    try:
        report = process_inbox(app, channel)
    finally:
        channel.stop()
    print(report.model_dump_json())


if __name__ == "__main__":
    main(Path(sys.argv[1]))
