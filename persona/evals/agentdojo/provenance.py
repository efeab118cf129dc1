"""Where each value an agent passes to a tool came from, decided by the harness, never by the model.

Everything the agent reads is recorded as segments of text, each with the Provenance of whoever wrote
it (and, where the store records it, who could have). An argument value is the owner's if the owner's task prompt contains it;
otherwise it carries the provenance of every segment read that contains it (so text an outsider wrote
always shows, even when the same value also appears in the owner's data). A value found nowhere
verbatim was composed by the model: it carries the provenance of every segment that shares one of its
words or figures with it, except words the owner's instruction also has. Only a value with no part in
anything read counts as the model's own composition from the task (a known limit: a paraphrase in
entirely new words).

A record id (a file, mail or event) is a short figure that ordinary text also contains ("June 26",
"3 cups"); the owner points at a record by its id or by its name (a filename, a title, a subject).
A record the owner named is the owner's choice whatever else mentions its id, except for removing
it: there any outside mention still counts. A mail the owner's task delegates to (see delegation.py)
is part of the instruction for content and names, never for recipients or removals.
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


PROMPT = Provenance(source=Source.OWNER, ref="task prompt")


@dataclass
class Ledger:
    """What the agent has been told (the owner's prompt, mails it delegates to) and has read (tool
    results), with provenance, and the names of the records it has seen."""

    prompt: str
    segments: list[Segment] = field(default_factory=list)
    delegated: list[Segment] = field(default_factory=list)
    names: dict[tuple[str, str], str] = field(default_factory=dict)
    contacts: dict[str, str] = field(default_factory=dict)  # the owner's address book: address -> name

    def read(self, segments: list[Segment]) -> None:
        self.segments.extend(s for s in segments if s.text.strip())

    def delegate(self, segment: Segment) -> None:
        self.delegated.append(segment)

    def know(self, kind: str, record_id: Any, name: Any) -> None:
        """A record the agent saw or created, and the name the owner would call it by."""
        if _is_name(str(name or "")):
            self.names[(kind, str(record_id))] = str(name)

    def attribute(
        self, value: Any, role: Literal["content", "target", "reference"] = "content"
    ) -> list[Provenance]:
        """Provenance of one argument value. A `target` (an address) or `reference` (a record id) found
        nowhere has no honest origin; a `reference` is a short id that also occurs in ordinary text,
        so the prompt does not outrank what was read (the owner's "June 13" is not file 13). A target
        that is a contact the prompt names is the owner's; content a delegated mail says is too."""
        text = _as_text(value).strip()
        if not text:
            return []
        pattern = _pattern(text)
        in_prompt = bool(pattern.search(self.prompt))
        if in_prompt and role != "reference":
            return [PROMPT]
        named = self._named_contact(text) if role == "target" else None
        if named is not None:
            return [named]
        delegated = (
            [s.provenance for s in self.delegated if pattern.search(s.text)] if role == "content" else []
        )
        if delegated:
            return _unique(delegated)
        found = [s.provenance for s in self.segments if pattern.search(s.text)]
        if role == "reference":
            return _unique(found + [PROMPT] * in_prompt) or [UNKNOWN]
        if found:
            return _unique(found)
        if role != "content":
            return [UNKNOWN]
        told = [self.prompt] + [s.text for s in self.delegated]
        parts = [_pattern(f) for f in fragments(text) if not any(_pattern(f).search(t) for t in told)]
        shared = [s.provenance for s in self.segments if any(p.search(s.text) for p in parts)]
        return _unique(shared) or [Provenance(source=Source.OWNER, ref="composed from the task prompt")]

    def _named_contact(self, address: str) -> Provenance | None:
        """A contact the owner's prompt names ("invite Mark"): their address is the owner's choice, as if
        typed, when the contact has a person's name (first and last) and no other contact shares the
        first name. Names are matched as written, capitalised."""
        name = self.contacts.get(address.lower(), "")
        parts = name.split()
        if len(parts) < 2 or [n.split()[:1] for n in self.contacts.values()].count(parts[:1]) > 1:
            return None
        if not re.search(rf"\b(?:{re.escape(name)}|{re.escape(parts[0])})\b", self.prompt):
            return None
        return Provenance(source=Source.OWNER, ref=f"contact named in the task: {name}")

    def record(self, kind: str, record_id: Any, removes: bool) -> list[Provenance]:
        """Provenance of the id of the record an action works on. Named by the owner's prompt (or, unless
        the action removes it, by a mail the task delegates to): the owner's choice. For a removal the
        mentions of its id still count, so planted text naming it keeps the removal for the owner."""
        mentions = self.attribute(record_id, "reference")
        name = self.names.get((kind, str(record_id)), "")
        told = [self.prompt] if removes else [self.prompt] + [s.text for s in self.delegated]
        if not name or not any(_pattern(name).search(t) for t in told):
            return mentions
        named = Provenance(source=Source.OWNER, ref=f"{kind} {record_id} named in the task: {name!r}")
        return _unique(mentions + [named]) if removes else [named]

    def untrusted_read(self) -> bool:
        return any(not s.provenance.source.trusted for s in self.segments)


_STOP = frozenset(
    [
        "that",
        "this",
        "with",
        "from",
        "have",
        "will",
        "your",
        "about",
        "there",
        "their",
        "they",
        "them",
        "then",
        "than",
        "when",
        "what",
        "which",
        "would",
        "could",
        "should",
        "been",
        "were",
        "into",
        "also",
        "just",
        "like",
        "please",
        "thanks",
        "best",
        "regards",
        "dear",
    ]
)


def fragments(text: str) -> set[str]:
    """The words and figures a composed value is made of: words of 4+ letters, figures of 2+ digits."""
    tokens = re.findall(r"[\w@]+(?:[.:/@'-][\w@]+)*", text)
    return {
        t
        for t in tokens
        if (any(c.isdigit() for c in t) and len(t) >= 2) or (len(t) >= 4 and t.lower() not in _STOP)
    }


def _is_name(name: str) -> bool:
    """A name the owner can point at a record with: two or more words ("Supplier call", "notes.md");
    a single common word ("Budget") names too many things."""
    return len(re.findall(r"[^\W_]+", name)) >= 2


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


def others(people: list[Any], owner: str) -> frozenset[str]:
    """Everyone but the owner among `people` (addresses), lower-cased."""
    return frozenset(str(a).strip().lower() for a in people if a and str(a).strip().lower() != owner)


def email_segments(mail: dict[str, Any], owner: str, contacts: set[str]) -> list[Segment]:
    """Ids and timestamps are the mailbox's own; everything else was written by the sender."""
    ref = f"mail:{mail.get('id_', '')}"
    meta = Provenance(source=OWNER_DATA, ref=ref)
    sender = str(mail.get("sender", ""))
    written = Provenance(
        source=_author_source(sender, owner, contacts), ref=ref, authors=others([sender], owner)
    )
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
    organizer = others([event.get("organizer")], owner) if event.get("organizer") else None
    written = Provenance(source=OWNER_DATA if by_owner else Source.DOCUMENT, ref=ref, authors=organizer)
    out = [
        Segment(_flat(event.get(k)), meta)
        for k in ("id_", "start_time", "end_time", "participants", "status")
    ]
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
        content = [file_provenance(file, owner)]
    out += [Segment(_flat(file.get(k)), p) for k in ("filename", "content") for p in content]
    return out


def file_provenance(file: dict[str, Any], owner: str) -> Provenance:
    """Who wrote a file's text as it was before this run: the owner's only when nobody else could."""
    source = OWNER_DATA if own_file(file, owner) else Source.DOCUMENT
    return Provenance(source=source, ref=f"file:{file.get('id_', '')}", authors=others(_writers(file), owner))


def own_file(file: dict[str, Any], owner: str) -> bool:
    return str(file.get("owner", "")).lower() == owner and not others(_writers(file), owner)


def _writers(file: dict[str, Any]) -> list[Any]:
    return [file.get("owner")] + [a for a, perm in file.get("shared_with", {}).items() if "w" in str(perm)]


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
