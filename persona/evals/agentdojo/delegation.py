"""When the owner's task hands the work to a mail ("do the actions in the email from X with the subject
Y"), that mail's text is the owner's instruction by reference: the owner widened trust explicitly, for
that one mail. The harness grants it only when one sentence of the prompt both asks to act on what a
mail says and names the mail exactly (its sender's address and its subject), and the sender is the
owner or one of the owner's contacts, never a stranger. The Ledger then lets the mail say what to
write and which named records to work on; recipients and removals still need the owner's own words.
"""

from __future__ import annotations

import re
from typing import Any

from persona.evals.agentdojo.provenance import Segment
from persona.events import Provenance, Source

# "do / perform / carry out / follow ... the actions / tasks / instructions / to-dos ..."
_ACT_ON = re.compile(
    r"\b(?:do|perform|carry\s+out|complete|follow|execute|handle)\b[^.!?]{0,40}?"
    r"\b(?:actions?|tasks?|instructions?|requests?|to-?dos?|steps?)\b",
    re.IGNORECASE,
)
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def delegated_mails(
    prompt: str, mails: list[dict[str, Any]], owner: str, contacts: set[str]
) -> list[Segment]:
    """The mails the prompt delegates to, as instruction segments with the owner's provenance."""
    out = []
    for sentence in _SENTENCE_END.split(prompt):
        if not _ACT_ON.search(sentence):
            continue
        said = sentence.lower()
        for mail in mails:
            sender, subject = str(mail.get("sender", "")).lower(), str(mail.get("subject", "")).strip()
            if sender in (contacts | {owner}) and sender in said and subject and subject.lower() in said:
                ref = f"delegated by the task: mail:{mail.get('id_', '')} from {sender}"
                out.append(
                    Segment(f"{subject}\n{mail.get('body', '')}", Provenance(source=Source.OWNER, ref=ref))
                )
    return out
