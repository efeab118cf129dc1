"""The owner's mail as the twin has handled it: the inbox ledger's entries `mail:<message-id>`.

The inbox loop writes them (persona.agent.inbox); the brief, triage corrections and the owner's
"reply to Priya's mail" read them here.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from pydantic import BaseModel

from persona.channels.email.base import IncomingMail, OutgoingMail
from persona.skills.reply_decision import Plan
from persona.skills.schedule import Slot

if TYPE_CHECKING:
    from persona.store import StateStore

KEPT_CHARS = 4000
PREFIX = "mail:"


class MailState(BaseModel):
    """The ledger value of `mail:<message-id>`."""

    sender: str = ""
    subject: str = ""
    snippet: str = ""
    label: str = ""
    reason: str = ""
    source: str = ""
    reply: OutgoingMail | None = None
    fallback: bool = False
    meeting: bool = False
    slot: Slot | None = None  # the free time the reply proposes, held as a tentative event
    alternatives: list[Slot] = []  # other free times, offered to the owner with the held event
    plan: Plan | None = None  # what the reply was decided to do, and from which past replies
    approval_id: str = ""
    verdict: str = ""
    note: str = ""
    mail: IncomingMail | None = (
        None  # the message itself (text cut to KEPT_CHARS), to answer or forward later
    )


def kept(mail: IncomingMail) -> IncomingMail:
    """What the ledger keeps of a mail: enough to answer or forward it, bounded whatever its size."""
    return mail.model_copy(
        update={"body": mail.body[:KEPT_CHARS], "fresh": mail.fresh[:KEPT_CHARS], "signature": ""}
    )


def handled(store: StateStore) -> list[tuple[str, MailState]]:
    """Every mail the inbox has handled, as (Message-ID, state)."""
    return [
        (key.removeprefix(PREFIX), MailState.model_validate_json(value))
        for key, _, value in store.ledger_keys(PREFIX)
    ]


def find_mail(store: StateStore, senders: set[str], words: str) -> list[tuple[str, MailState]]:
    """Handled mail from `senders` (any sender when empty) whose subject shares the most words with
    `words`, latest first among equals."""
    wanted = set(re.findall(r"[a-z0-9]{3,}", words.lower())) - _COMMON
    found = []
    for message_id, state in handled(store):
        if senders and state.sender not in senders:
            continue
        subject = set(re.findall(r"[a-z0-9]{3,}", f"{state.subject} {state.snippet[:120]}".lower()))
        date = state.mail.date.isoformat() if state.mail and state.mail.date else ""
        found.append((len(wanted & subject), date, message_id, state))
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)
    if found and found[0][0] == 0 and not senders:
        return []  # nothing but "some mail": not a reference to any one
    return [(message_id, state) for _, _, message_id, state in found]


_COMMON = {
    "the",
    "and",
    "for",
    "mail",
    "email",
    "message",
    "reply",
    "forward",
    "about",
    "from",
    "that",
    "this",
    "with",
    "her",
    "his",
    "their",
    "saying",
    "tell",
    "say",
    "please",
    "can",
    "you",
    "could",
    "send",
    "yes",
}
