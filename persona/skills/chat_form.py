"""A chat answer in chat form: no mail greeting, no sign-off, none of the prompt's context echoed.

A small model shown the owner's past mail tends to answer with one of them, greeting and sign-off
included, and sometimes carries on into the next context item. The prompt asks for a chat message;
this makes sure of the form whatever the model did.
"""

from __future__ import annotations

from persona.memory.style import body_of

CONTEXT_SEPARATOR = "---"  # between context items in the prompt (persona.skills.prompt)


def as_chat_message(text: str, owner_name: str) -> str:
    """`text` up to any echoed context separator, without a greeting line or closing lines."""
    lines = text.strip().split("\n")
    stripped = [line.strip() for line in lines]
    if CONTEXT_SEPARATOR in stripped:
        lines = lines[: stripped.index(CONTEXT_SEPARATOR)]
    return body_of("\n".join(lines), owner_name)
