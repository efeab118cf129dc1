"""The scripted model's side of an inbox pass, for tests that run the mail loop without the local model."""

from __future__ import annotations

import json
import re
from collections.abc import Callable

from langchain_core.messages import BaseMessage


def inbox_pass(draft: str) -> Callable[[list[BaseMessage]], str]:
    """Triage says respond, the decision step takes the first decision it offers, anything else is `draft`."""

    def answer(messages: list[BaseMessage]) -> str:
        prompt = messages[0].text
        if prompt.startswith("You decide how"):
            first = re.search(r"^- (\w+):", prompt, re.MULTILINE)
            return json.dumps({"reason": "as before", "decision": first.group(1) if first else ""})
        if prompt.startswith("You sort"):
            return json.dumps({"reason": "a colleague asks a question", "label": "respond"})
        return draft

    return answer
