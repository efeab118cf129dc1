"""Read an archive into memory: knowledge chunks for everything, exemplars for what the owner wrote.

Items are content-addressed, so ingesting the same archive again adds nothing. Embedding happens in
batches spanning many documents, which is where the throughput comes from. Every run has an id, kept
in the metadata (`ingest_run`) of the items it added, so `persona forget --run` can take them back.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from contextlib import nullcontext
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from pydantic import BaseModel
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from persona.channels.email.mailparse import topic
from persona.input_limits import IngestLimits
from persona.memory.chunking import chunk_text
from persona.memory.dates import annotate
from persona.memory.loaders import Document, Skipped, Walk, iter_documents
from persona.memory.store import MemoryItem, MemoryStore, date_metadata
from persona.memory.style import StyleCard, compute_style_card
from persona.profile import Audience, Profile

_BATCH = 512  # items per embedding call: big enough to keep the model busy, small enough for RAM
_INCOMING_CHARS = 600  # how much of the message being answered an exemplar keeps as context
_SITUATION_CHARS = 1500  # how much of each side of a (mail, the owner's reply) pair a situation keeps


class IngestSummary(BaseModel):
    run: str
    files: int = 0
    documents: int = 0
    owner_written: int = 0
    chunks_added: int = 0
    chunks_present: int = 0
    skipped: list[Skipped] = []
    owner_texts: list[str] = []
    style_card: StyleCard | None = None


def ingest(
    paths: Iterable[Path],
    *,
    store: MemoryStore,
    profile: Profile,
    audience: Audience,
    progress: bool | Console | None = None,
    limits: IngestLimits | None = None,
    run: str = "",
) -> IngestSummary:
    """Ingest files/folders with one audience label; refreshes the style card when the owner wrote.
    `run` is this run's id (`new_run_id()` unless given)."""
    summary = IngestSummary(run=run or new_run_id())
    walk = Walk(limits or IngestLimits())
    pending: list[MemoryItem] = []
    exemplar_docs: list[Document] = []
    incoming = _Received()
    # chat thread -> its latest message's item: what the next one answers; it is stored once the next
    # one is read, so each holds the ids of the turns before and after it (`prev`, `next`)
    last_turn: dict[str, MemoryItem] = {}
    sources: set[str] = set()

    def flush() -> None:
        for item in pending:
            item.metadata["ingest_run"] = summary.run  # kept only by the items this run stores first
        added = store.add(pending)
        summary.chunks_added += added
        summary.chunks_present += len(pending) - added
        pending.clear()

    with _progress(progress) as bar:
        task = bar.add_task("reading", total=None) if bar else None
        for path in paths:
            for doc in iter_documents(Path(path), walk=walk):
                if isinstance(doc, Skipped):
                    summary.skipped.append(doc)
                    continue
                summary.documents += 1
                sources.add(doc.source.split("#", 1)[0])
                if doc.kind == "mail" and not _owner_wrote(doc, profile):
                    incoming.add(doc)
                if _owner_wrote(doc, profile):
                    summary.owner_written += 1
                    exemplar_docs.append(doc)
                before = last_turn.get(doc.thread_id) if doc.kind == "chat" else None
                knowledge = _knowledge(doc, profile, audience, before.text if before else "")
                if doc.kind == "chat":
                    if before is not None:
                        before.metadata["next"], knowledge[0].metadata["prev"] = knowledge[0].id, before.id
                        pending.append(before)
                    last_turn[doc.thread_id] = knowledge[0]
                else:
                    pending.extend(knowledge)
                if len(pending) >= _BATCH:
                    flush()
                if bar is not None and task is not None:
                    bar.update(task, description=f"{summary.documents} documents", advance=1)
        pending.extend(last_turn.values())
        # exemplars wait for the whole run so a reply can point at the message it answers
        for doc in exemplar_docs:
            if doc.text.strip():
                answered = incoming.answered_by(doc) if doc.kind == "mail" else None
                pending.append(_exemplar(doc, audience, answered))
                if answered is not None:
                    pending.append(_situation(doc, audience, answered))
        flush()
    summary.files = len(sources) + len({s.source.split("#", 1)[0] for s in summary.skipped})
    summary.owner_texts = [doc.text for doc in exemplar_docs if doc.kind == "mail" and doc.text.strip()]
    if summary.owner_texts:
        summary.style_card = compute_style_card(store.exemplar_texts("mail"), profile.owner.name)
        summary.style_card.save(store.home.style_card_path)
    return summary


def new_run_id(now: datetime | None = None) -> str:
    """A run id that sorts by time and says when it ran: 20261207-153012-a1b2."""
    return f"{(now or datetime.now(UTC)):%Y%m%d-%H%M%S}-{secrets.token_hex(2)}"


def _owner_wrote(doc: Document, profile: Profile) -> bool:
    if doc.kind == "note":
        return False  # notes are the owner's, but they are not messages to imitate
    if doc.author:
        return profile.is_owner(doc.author)
    name = str(doc.meta.get("from_name", "")).strip().lower()
    return bool(name) and name == profile.owner.name.strip().lower()


def _common(doc: Document, author: str) -> dict[str, Any]:
    return {
        "doc_id": doc.id,
        "doc_kind": doc.kind,
        "author": author,
        "recipients": ", ".join(doc.recipients),
        **date_metadata(doc.date),
        "subject": doc.subject,
        "thread_id": doc.thread_id,
        "source": doc.source,
    }


def _knowledge(doc: Document, profile: Profile, audience: Audience, answers: str) -> list[MemoryItem]:
    """The document's items; a chat message's one item is said to answer `answers`, its thread's turn
    before it (the same text as that turn's item: the store embeds it once for both)."""
    author = doc.author or (profile.owner.emails[0] if doc.kind == "note" else "")
    speaker = str(doc.meta.get("from_name") or author)
    # a note's file date is when it was last saved, not when its "yesterday" was
    text, spans = (doc.text, []) if doc.kind == "note" else annotate(doc.text, doc.date)
    meta = _common(doc, author) | {
        "speaker": speaker,
        "people": ", ".join(dict.fromkeys(p.lower() for p in (speaker, *doc.recipients) if p)),
        "dates": ";".join(span.encode() for span in spans),
    }
    if doc.kind == "chat":  # who said it, and the turn it answers: "yes, I went there yesterday" needs both
        return [
            MemoryItem.make(f"{speaker or 'someone'}: {text}", "knowledge", audience, context=answers, **meta)
        ]
    return [MemoryItem.make(chunk, "knowledge", audience, **meta) for chunk in chunk_text(text)]


class Answered(BaseModel):
    """The mail an owner's reply answers: found in the archive, or quoted under the reply."""

    author: str
    subject: str
    text: str


class _Received:
    """Mail from others seen in this run, to find what each of the owner's replies answers."""

    def __init__(self) -> None:
        self._by_id: dict[str, Answered] = {}
        self._by_subject: dict[tuple[str, str], Answered] = {}  # (subject without "Re:", sender) -> latest

    def add(self, doc: Document) -> None:
        answered = Answered(author=doc.author, subject=doc.subject, text=doc.text)
        if message_id := doc.meta.get("message_id"):
            self._by_id[str(message_id)] = answered
        self._by_subject[(topic(doc.subject), doc.author.lower())] = answered

    def answered_by(self, reply: Document) -> Answered | None:
        """By In-Reply-To, then References (newest first), then the quote under the reply, then a mail
        from one of the reply's recipients with the same subject: archives often lack the headers."""
        ids = [str(reply.meta.get("in_reply_to") or ""), *reversed(list(reply.meta.get("references") or []))]
        for message_id in ids:
            if message_id in self._by_id:
                return self._by_id[message_id]
        quoted = reply.meta.get("quoted")
        if quoted is not None and quoted.text.strip():
            return Answered(author=quoted.author, subject=quoted.subject or reply.subject, text=quoted.text)
        if topic(reply.subject) != reply.subject.strip().lower():  # only a "Re:" answers by subject
            for recipient in reply.recipients:
                if found := self._by_subject.get((topic(reply.subject), recipient.lower())):
                    return found
        return None


def _exemplar(doc: Document, audience: Audience, answered: Answered | None) -> MemoryItem:
    """One item per owner message, whole: the embedding sees its start, the prompt gets all of it."""
    meta = _common(doc, doc.author)
    if answered is not None:
        meta["incoming_author"], meta["incoming_text"] = answered.author, answered.text[:_INCOMING_CHARS]
    return MemoryItem.make(doc.text, "exemplar", audience, **meta)


def _situation(doc: Document, audience: Audience, answered: Answered) -> MemoryItem:
    """A mail the owner answered, found by its own words; the owner's answer rides along as `reply`."""
    meta = _common(doc, answered.author) | {
        "subject": answered.subject or doc.subject,
        "replied_by": doc.author,
        "reply": doc.text[:_SITUATION_CHARS],
    }
    text = f"{answered.subject or doc.subject}\n{answered.text}".strip()[:_SITUATION_CHARS]
    return MemoryItem.make(text, "situation", audience, **meta)


def _progress(progress: bool | Console | None) -> Any:
    if not progress:
        return nullcontext(None)
    console = progress if isinstance(progress, Console) else None
    return Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    )
