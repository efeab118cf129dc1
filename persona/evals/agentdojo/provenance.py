"""Where each value an agent passes to a tool came from, decided by the harness, never by the model.

Everything the agent reads is recorded as segments of text, each with the Provenance of whoever wrote
it. An argument value is the owner's if the owner's task prompt contains it; otherwise it carries the
provenance of every segment read that contains it (so text an outsider wrote always shows, even when
the same value also appears in the owner's data). A value found nowhere verbatim was composed by the
model: it carries the provenance of every segment that shares one of its words or figures with it,
except words the owner's prompt also has. Only a value with no part in anything read counts as the
model's own composition from the task (a known limit: a paraphrase in entirely new words).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any, Literal

from persona.events import Provenance, Source

OWNER_DATA = Source.OWNER_DATA
# A recipient or record id that is neither in the prompt nor in anything read: invented, so untrusted.
UNKNOWN = Provenance(source=Source.STRANGER, ref="unknown origin: not in the task nor in anything read")


@dataclass(frozen=True)
class Segment:
    text: str
    provenance: Provenance


def _pattern(value: str) -> re.Pattern[str]:
    # Whole-token match: "11" must not match inside "2024-05-11", nor "ann" inside "planning".
    return re.compile(r"(?<![\w./:@-])" + re.escape(value) + r"(?![\w/:@-]|\.\w)", re.IGNORECASE)


@dataclass
class Ledger:
    """What the agent has been told (the owner's prompt) and has read (tool results), with provenance."""

    prompt: str
    segments: list[Segment] = field(default_factory=list)

    def read(self, segments: list[Segment]) -> None:
        self.segments.extend(s for s in segments if s.text.strip())

    def attribute(self, value: Any, role: Literal["content", "target", "reference"] = "content") -> list[Provenance]:
        """Provenance of one argument value. A `target` (an address) or `reference` (a record id) found
        nowhere has no honest origin; a `reference` is a short id that also occurs in ordinary text,
        so the prompt does not outrank what was read (the owner's "June 13" is not file 13)."""
        text = _as_text(value).strip()
        if not text:
            return []
        pattern = _pattern(text)
        in_prompt = bool(pattern.search(self.prompt))
        if in_prompt and role != "reference":
            return [Provenance(source=Source.OWNER, ref="task prompt")]
        found = [s.provenance for s in self.segments if pattern.search(s.text)]
        if found:
            return _unique(found)
        if in_prompt:
            return [Provenance(source=Source.OWNER, ref="task prompt")]
        if role != "content":
            return [UNKNOWN]
        parts = [_pattern(f) for f in fragments(text) if not _pattern(f).search(self.prompt)]
        shared = [s.provenance for s in self.segments if any(p.search(s.text) for p in parts)]
        return _unique(shared) or [Provenance(source=Source.OWNER, ref="composed from the task prompt")]

    def untrusted_read(self) -> bool:
        return any(not s.provenance.source.trusted for s in self.segments)


_STOP = frozenset(
    ["that", "this", "with", "from", "have", "will", "your", "about", "there", "their", "they", "them", "then", "than", "when", "what", "which", "would", "could", "should", "been", "were", "into", "also", "just", "like", "please", "thanks", "best", "regards", "dear"]
)


def fragments(text: str) -> set[str]:
    """The words and figures a composed value is made of: words of 4+ letters, figures of 2+ digits."""
    tokens = re.findall(r"[\w@]+(?:[.:/@'-][\w@]+)*", text)
    return {
        t for t in tokens
        if (any(c.isdigit() for c in t) and len(t) >= 2) or (len(t) >= 4 and t.lower() not in _STOP)
    }


def _as_text(value: Any) -> str:
    if value is None:
        return ""
    return value if isinstance(value, str) else json.dumps(value, sort_keys=True)


def _unique(items: list[Provenance]) -> list[Provenance]:
    seen: dict[tuple[str, str], Provenance] = {}
    for p in items:
        seen.setdefault((p.source.value, p.ref), p)
    return list(seen.values())


def _author_source(address: str, owner: str, contacts: set[str]) -> Source:
    if address.lower() == owner:
        return OWNER_DATA
    return Source.KNOWN_PERSON if address.lower() in contacts else Source.STRANGER


def email_segments(mail: dict[str, Any], owner: str, contacts: set[str]) -> list[Segment]:
    """Ids and timestamps are the mailbox's own; everything else was written by the sender."""
    ref = f"mail:{mail.get('id_', '')}"
    meta = Provenance(source=OWNER_DATA, ref=ref)
    written = Provenance(source=_author_source(str(mail.get("sender", "")), owner, contacts), ref=ref)
    out = [Segment(str(mail.get(k, "")), meta) for k in ("id_", "timestamp")]
    for key in ("sender", "recipients", "cc", "bcc", "subject", "body", "attachments"):
        out.append(Segment(_flat(mail.get(key)), written))
    return out


def event_segments(event: dict[str, Any], owner: str) -> list[Segment]:
    """The calendar keeps ids, times and the attendee list; title, description and location were
    written by the organiser, which this format does not record, so they count as a document
    unless the owner is named as organiser."""
    ref = f"event:{event.get('id_', '')}"
    meta = Provenance(source=OWNER_DATA, ref=ref)
    by_owner = str(event.get("organizer", "")).lower() == owner
    written = Provenance(source=OWNER_DATA if by_owner else Source.DOCUMENT, ref=ref)
    out = [Segment(_flat(event.get(k)), meta) for k in ("id_", "start_time", "end_time", "participants", "status")]
    out += [Segment(_flat(event.get(k)), written) for k in ("title", "description", "location")]
    return out


def file_segments(file: dict[str, Any], owner: str, content: list[Provenance] | None) -> list[Segment]:
    """The drive keeps ids, sizes, owner and sharing; name and content are the owner's only when the
    owner owns the file and nobody else may write to it."""
    ref = f"file:{file.get('id_', '')}"
    meta = Provenance(source=OWNER_DATA, ref=ref)
    out = [Segment(_flat(file.get(k)), meta) for k in ("id_", "size", "last_modified", "owner")]
    out.append(Segment(_flat(list(file.get("shared_with", {}))), meta))
    if content is None:
        content = [Provenance(source=OWNER_DATA if own_file(file, owner) else Source.DOCUMENT, ref=ref)]
    out += [Segment(_flat(file.get(k)), p) for k in ("filename", "content") for p in content]
    return out


def own_file(file: dict[str, Any], owner: str) -> bool:
    writers = {a.lower() for a, perm in file.get("shared_with", {}).items() if "w" in str(perm)}
    return str(file.get("owner", "")).lower() == owner and not writers - {owner}


def owner_data(text: str, ref: str) -> list[Segment]:
    return [Segment(text, Provenance(source=OWNER_DATA, ref=ref))]


def _flat(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, (list, tuple)):
        return "\n".join(_flat(v) for v in value)
    if isinstance(value, dict):
        return json.dumps(value, sort_keys=True)
    return str(value)
