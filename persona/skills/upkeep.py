"""Memory upkeep: fold the day's conversations and the owner's decisions into memory.

- Everything folded is labelled audience `owner`. A chat with a colleague may hold things the
  colleague should not see from another colleague (or that the twin answered with owner-only
  context); widening is the owner's call, never the upkeep's.
- Each item says who said it, where and when (provenance in its metadata and in its text), and is
  content-addressed, so folding the same conversation again adds nothing.
- Nothing is cut or expired: long messages are chunked whole, and the cursor moves only after
  memory has stored the items, so a failed run is redone in full by the next one.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from datetime import datetime
from typing import TYPE_CHECKING, Any

from pydantic import BaseModel

from persona.errors import PersonaError
from persona.events import Principal
from persona.memory.chunking import chunk_text
from persona.memory.store import MemoryItem, date_metadata
from persona.profile import Audience
from persona.skills.triage import corrections

if TYPE_CHECKING:
    from persona.app import App

# after (an ISO time) -> {thread id: (time of its latest state, principal, [(speaker, text)])}
Conversations = Callable[[str], dict[str, tuple[str, dict[str, Any], list[tuple[str, str]]]]]
CURSOR_KEY = "upkeep:cursor"
AUDIENCE = Audience.OWNER


class UpkeepCursor(BaseModel):
    audit_seq: int = 0
    checkpoint_ts: str = ""  # ISO time of the newest conversation state already folded
    corrections_at: str = ""


class UpkeepReport(BaseModel):
    conversations: int = 0
    messages: int = 0
    decisions: int = 0
    added: int = 0
    present: int = 0

    @property
    def summary(self) -> str:
        return (
            f"{self.conversations} conversations ({self.messages} messages) and {self.decisions} decisions: "
            f"{self.added} new memory items, {self.present} already known"
        )


def run_upkeep(app: App, conversations: Conversations) -> UpkeepReport:
    """Fold what happened since the last upkeep into memory; returns what was read and stored.
    `conversations` reads the twin's conversations updated since a time; the agent keeps them
    (persona.agent.checkpoints.conversations_since), so the caller hands the reader in."""
    entry = app.store.ledger_get(CURSOR_KEY)
    cursor = UpkeepCursor.model_validate_json(entry[1]) if entry else UpkeepCursor()
    report = UpkeepReport()
    items: list[MemoryItem] = []

    threads = conversations(cursor.checkpoint_ts)
    for thread, (ts, principal, messages) in threads.items():
        report.conversations += 1
        report.messages += len(messages)
        items += [
            item
            for speaker, text in messages
            for item in _conversation_items(thread, ts, principal, speaker, text)
        ]
    decisions, after = _decisions(app, cursor)
    report.decisions = len(decisions)
    items += decisions

    report.added = app.memory.add(items) if items else 0
    report.present = len({i.id for i in items}) - report.added
    after.checkpoint_ts = max([cursor.checkpoint_ts, *(ts for ts, _, _ in threads.values())])
    app.store.ledger_set(CURSOR_KEY, "done", after.model_dump_json())
    return report


def _conversation_items(
    thread: str, ts: str, principal: dict[str, Any], speaker: str, text: str
) -> list[MemoryItem]:
    who = Principal.model_validate(principal) if principal else None
    person = (who.name or who.address or who.role.value) if who else "someone"
    said_by = "the twin" if speaker == "ai" else person
    # No date in the text: a thread folded again on a later day must hash to the same items.
    header = f"Chat with {person} ({thread}): {said_by} said:"
    meta = {
        "doc_kind": "conversation",
        "source": f"conversation:{thread}",
        "thread_id": thread,
        "author": "twin" if speaker == "ai" else (who.address if who else ""),
        "principal_role": who.role.value if who else "",
        "provenance": "twin-chat",
        **date_metadata(datetime.fromisoformat(ts)),
    }
    return [MemoryItem.make(f"{header} {chunk}", "knowledge", AUDIENCE, **meta) for chunk in chunk_text(text)]


def _decisions(app: App, cursor: UpkeepCursor) -> tuple[list[MemoryItem], UpkeepCursor]:
    """The owner's approvals, rejections and triage corrections since the cursor, one item each,
    and the cursor past them."""
    after = cursor.model_copy()
    items = []
    for entry in app.store.audit_entries(limit=100_000):
        after.audit_seq = max(after.audit_seq, entry.seq)
        if entry.seq <= cursor.audit_seq or entry.kind not in ("approved", "rejected"):
            continue
        reason = f" because: {entry.detail['reason']}" if entry.detail.get("reason") else ""
        text = (
            f"Decision {entry.ts[:10]}: the owner {entry.kind} {entry.subject.replace('_', ' ')}: "
            f"{_approval_summary(app, str(entry.detail.get('action_id', '')))}{reason}"
        )
        items.append(
            MemoryItem.make(
                text,
                "knowledge",
                AUDIENCE,
                doc_kind="decision",
                source=f"audit:{entry.seq}",
                author=entry.actor,
                provenance="owner-decision",
                **date_metadata(datetime.fromisoformat(entry.ts)),
            )
        )
    for correction in corrections(app.store):
        if correction.at <= cursor.corrections_at:
            continue
        after.corrections_at = max(after.corrections_at, correction.at)
        text = (
            f"Decision {correction.at[:10]}: the owner said mail from {correction.sender} "
            f"(like {json.dumps(correction.subject)}) is {correction.label.value}"
        )
        items.append(
            MemoryItem.make(
                text,
                "knowledge",
                AUDIENCE,
                doc_kind="correction",
                source=f"triage-correction:{correction.message_id}",
                author="owner",
                provenance="owner-decision",
                **date_metadata(datetime.fromisoformat(correction.at) if correction.at else None),
            )
        )
    return items, after


def _approval_summary(app: App, action_id: str) -> str:
    try:
        return app.store.get_approval(action_id).action.summary or action_id
    except PersonaError:
        return action_id
