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


def _words(text: str) -> set[str]:
    return set(re.findall(r"[a-z0-9]{3,}", text.lower())) - _COMMON


def find_mail(store: StateStore, senders: set[str], words: str) -> list[tuple[str, MailState]]:
    """Handled mail from `senders` (any sender when empty) that `words` name best, latest first among
    equals."""
    return [(message_id, state) for _, message_id, state in scored_mail(store, senders, words)]


def scored_mail(store: StateStore, senders: set[str], words: str) -> list[tuple[int, str, MailState]]:
    """`find_mail` with how well the words name each mail: a word of its subject counts twice a word of
    its opening lines. Without senders only mail the words name is kept: a word of its subject or two of
    its opening ("the job offer" is not a mail that asks "what exactly is my job?")."""
    wanted = _words(words)
    found = []
    for message_id, state in handled(store):
        if senders and state.sender not in senders:
            continue
        subject = wanted & _words(state.subject)
        score = 2 * len(subject) + len(wanted & _words(state.snippet[:120]) - subject)
        if senders or score >= 2:
            found.append((score, mail_date(state), message_id, state))
    found.sort(key=lambda f: (f[0], f[1]), reverse=True)
    return [(score, message_id, state) for score, _, message_id, state in found]


def mail_date(state: MailState) -> str:
    return state.mail.date.isoformat() if state.mail and state.mail.date else ""


_COMMON = {  # words that name no mail: a request's grammar, and what every mail says
    "the",
    "have",
    "has",
    "had",
    "when",
    "what",
    "which",
    "who",
    "why",
    "how",
    "need",
    "must",
    "should",
    "would",
    "will",
    "was",
    "were",
    "are",
    "not",
    "but",
    "just",
    "did",
    "does",
    "your",
    "our",
    "him",
    "them",
    "they",
    "she",
    "answer",
    "respond",
    "write",
    "back",
    "get",
    "hello",
    "dear",
    "thanks",
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
