"""Notes the owner asks the twin to remember, and messages people leave for the owner.

Both stay in the owner's own space: a note becomes a memory item (owner-only unless the owner says
the team may know it); a message lands in the owner's "for you" list, as the person wrote it: data
for the owner to read, never an instruction to the twin.
"""

from __future__ import annotations

import re
from datetime import datetime
from typing import Literal

from pydantic import BaseModel, Field

from persona.events import Action, ActionKind, Provenance, Source
from persona.profile import Audience
from persona.skills.people import people_named
from persona.skills.turn import Outcome, Turn

_PREFIX = re.compile(
    r"^\s*(?:(?:please|pls|can you|could you|would you|kindly)\s+)*(?:remember|note(?: down)?|make a note(?: of)?|"
    r"take a note|keep in mind|don'?t forget|jot down|save (?:this|that|a note)|for the record|fyi|"
    r"(?:add|make|take|put|pop|jot|leave)\s+(?:down\s+)?(?:a\s+)?note(?: of)?)"
    r"(?:\s+(?:for|to) (?:the )?(?:team|colleagues|me|myself))?(?:\s+that)?\s*[:,\-–]?\s*",
    re.IGNORECASE,
)
_TEAM = re.compile(
    r"[,;(\s]*\b(?:for the team|(?:the )?team (?:may|can|should|is allowed to) (?:know|see|hear)(?: (?:it|this|that))?|"
    r"(?:my )?colleagues (?:may|can|should) (?:know|see)(?: (?:it|this|that))?|share (?:it|this|that) with (?:the "
    r"team|colleagues)|(?:it'?s )?(?:ok|fine) (?:for|to share with) (?:the team|colleagues)|not private|"
    r"team[- ]visible)\b[).]*",
    re.IGNORECASE,
)
_LEAVE = re.compile(
    r"^\s*(?:hi|hey|hello)?[,!\s]*(?:(?:please|could you|can you|would you)\s+)*(?:(?:tell|let|inform|remind|ask)\s+"
    r"\w+(?:\s+know)?(?:\s+that)?|pass (?:it |this |that )?(?:on|along)(?:\s+to\s+\w+)?(?:\s+that)?|leave (?:a |her |"
    r"him )?(?:message|note)(?: for \w+)?(?:\s+that)?)\s*[:,\-–]?\s*",
    re.IGNORECASE,
)


class RememberArgs(BaseModel):
    """Keep a note in the owner's memory (owner-only unless the team may know it)."""

    note: str = Field(default="", description="what to remember, in the owner's words")
    audience: Literal["owner", "team"] | None = Field(default=None, description="who may ever be told it")


class LeaveMessageArgs(BaseModel):
    """Leave a message for the owner, in the person's own words."""

    text: str = Field(default="", description="the message as the person said it")


def note_text(said: str) -> tuple[str, Audience]:
    """The note in `said`, without "remember that" or "for the team", and who may see it."""
    audience = Audience.TEAM if _TEAM.search(said) else Audience.OWNER
    text = _TEAM.sub(" ", _PREFIX.sub("", said, count=1))
    return " ".join(text.split()).strip(" .,;:") + ("." if text.strip() else ""), audience


def remember(turn: Turn, args: RememberArgs) -> Outcome:
    said, audience = note_text(turn.text)
    text = args.note.strip() or said
    if args.audience:
        audience = Audience(args.audience)
    if len(text) < 3:
        return Outcome(reply="What should I remember?")
    done = turn.submit(
        Action(
            kind=ActionKind.REMEMBER,
            requested_by=turn.principal,
            event_id=turn.event_id,
            payload={"text": text, "audience": audience.value},
            payload_provenance=[turn.provenance],
            summary=f"note for {'the team' if audience is Audience.TEAM else 'you only'}: {text[:80]}",
        )
    )
    if not done.ran:
        return Outcome(reply=f"I couldn't keep that note: {done.reason}.", done=[done])
    who = "your colleagues may be told it too" if audience is Audience.TEAM else "only you will see it"
    return Outcome(reply=f"Noted ({who}): “{text}”", done=[done])


def leave_message(turn: Turn, args: LeaveMessageArgs, *, because: str = "") -> Outcome:
    """`because`: why the person's request became a message (something only the owner can do)."""
    me = turn.owner_first
    text = args.text.strip() or turn.text.strip()
    done = turn.submit(
        Action(
            kind=ActionKind.LEAVE_MESSAGE,
            requested_by=turn.principal,
            targets=[turn.app.profile.owner.emails[0]],
            target_provenance=[Provenance(source=Source.OWNER_DATA, ref="profile")],
            event_id=turn.event_id,
            payload={"text": text, "channel": turn.channel},
            payload_provenance=[turn.provenance],
            summary=f"message from {turn.principal.name or turn.principal.address or 'someone'}: {text[:80]}",
        )
    )
    if not done.ran:
        return Outcome(reply=f"I couldn't take a message just now: {done.reason}.", done=[done])
    lead = f"{because} " if because else ""
    return Outcome(
        reply=f"{lead}I've passed your message on to {me}; {me} will see it in the list of messages"
        " left for them.",
        done=[done],
    )


def message_text(said: str) -> str:
    """The message itself, without "could you tell Dana that"."""
    text = _LEAVE.sub("", said, count=1).strip()
    return text[:1].upper() + text[1:] if len(text) >= 3 else said.strip()


class MessagesArgs(BaseModel):
    """The messages people left for the owner."""

    sender: str = Field(default="", description="only those from this person (a name or address)")
    everything: bool = Field(default=False, description="include messages already read")


def messages(turn: Turn, args: MessagesArgs) -> Outcome:
    store, profile = turn.app.store, turn.app.profile
    found = store.messages(unread_only=not args.everything, limit=50)
    named = {c for n in people_named(profile, args.sender or turn.text) for c in n.candidates}
    if named:
        found = [m for m in found if m.sender in named] or [
            m for m in store.messages(limit=50) if m.sender in named
        ]
    if not found:
        return Outcome(reply="No new messages for you." if not named else "No messages from them.")
    zone = profile.zone
    lines = []
    for m in found[:12]:
        at = datetime.fromisoformat(m.at).astimezone(zone)
        who = f"{m.name} ({m.sender})" if m.name else m.sender
        lines.append(f"- {at:%a %-d %b %H:%M}, {who}, by {m.channel}: “{m.text}”")
    store.mark_read([m.id for m in found[:12]])
    more = f"\n…and {len(found) - 12} more (`persona messages`)." if len(found) > 12 else ""
    count = f"{len(found)} message{'s' if len(found) != 1 else ''}"
    return Outcome(reply=f"{count} for you:\n" + "\n".join(lines) + more)
