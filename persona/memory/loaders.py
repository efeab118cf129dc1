"""Turn files and folders of the owner's archive into Documents.

Recognised inputs (folders are walked recursively, in sorted order):

- mbox files: named `*.mbox`, or any file whose first line starts with `From `;
- single messages: `*.eml`, or an extension-less file that starts with mail headers;
- Maildir folders (with `cur/` and `new/`), including Maildir++ subfolders such as `.Sent`;
- notes: `*.txt` and `*.md` (the owner's own writing);
- chat exports: `*.json` in this format::

      {
        "title": "Project chat",                  # optional
        "participants": ["dana@example.com", "Sam"],  # optional
        "messages": [
          {"from": "dana@example.com",            # an address or a display name
           "to": ["sam@example.com"],             # optional
           "date": "2025-03-03T10:00:00+01:00",   # ISO-8601; no offset means UTC
           "text": "Shall we move the demo to Friday?"}
        ]
      }

  A file holding only the list of messages (without the surrounding object) is accepted too.

Anything unreadable is reported as `Skipped(source, reason)` instead of stopping the walk: a file
over its kind's size limit or not text at all (persona.input_limits), a message of too many MIME
parts, an mbox holding no message. Links are followed, and each real file or folder is read once, so a
link loop ends and a file linked twice is one file.
"""

from __future__ import annotations

import hashlib
import json
import mailbox
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from persona.channels.email.mailparse import MailParseError, parse_mail
from persona.input_limits import IngestLimits, not_text, too_big

DocKind = Literal["mail", "note", "chat"]


class Document(BaseModel):
    id: str
    kind: DocKind
    text: str
    author: str = ""
    recipients: list[str] = []
    date: datetime | None = None
    subject: str = ""
    thread_id: str = ""
    source: str
    meta: dict[str, Any] = {}


class Skipped(BaseModel):
    source: str
    reason: str


class Walk:
    """One ingest's walk: its limits, and the real paths read so far (a second way to one is skipped)."""

    def __init__(self, limits: IngestLimits) -> None:
        self.limits = limits
        self._seen: set[Path] = set()

    def first_visit(self, path: Path) -> Skipped | None:
        """None the first time a real file or folder is reached; after that, or for a link loop, why not."""
        try:
            real = path.resolve(strict=True)
        except (OSError, RuntimeError):  # RuntimeError: a link loop, on Python before 3.13
            return Skipped(source=str(path), reason="a link that leads nowhere or in a loop")
        if real in self._seen:
            return Skipped(source=str(path), reason="read already (by another path or link)")
        self._seen.add(real)
        return None


def iter_documents(
    path: Path, limits: IngestLimits | None = None, walk: Walk | None = None
) -> Iterator[Document | Skipped]:
    """`walk` carries the paths read by earlier calls of one ingest, so each file is read once in all."""
    walk = walk or Walk(limits or IngestLimits())
    if not path.exists() and not path.is_symlink():
        yield Skipped(source=str(path), reason="no such file or folder")
    elif (skipped := walk.first_visit(path)) is not None:
        yield skipped
    elif path.is_dir():
        yield from _folder(path, walk)
    else:
        yield from _file(path, walk.limits)


def _folder(folder: Path, walk: Walk) -> Iterator[Document | Skipped]:
    maildir = _is_maildir(folder)
    if maildir:
        yield from _maildir(folder, walk.limits)
    try:
        children = sorted(folder.iterdir())
    except OSError as exc:
        yield Skipped(source=str(folder), reason=f"cannot list folder: {exc.strerror or exc}")
        return
    for child in children:
        if child.is_dir():
            if maildir and child.name in ("cur", "new", "tmp"):
                continue
            if child.name.startswith(".") and not _is_maildir(child):
                continue  # .git and friends; Maildir++ folders (.Sent) are maildirs and kept
            yield from iter_documents(child, walk=walk)
        elif not child.name.startswith(".") and not maildir:  # a maildir's own files are bookkeeping
            yield from iter_documents(child, walk=walk)


def _file(path: Path, limits: IngestLimits) -> Iterator[Document | Skipped]:
    try:
        kind = _kind(path)
        if kind is None:
            yield Skipped(source=str(path), reason="unsupported file type")
        elif (reason := _unfit(path, kind, limits)) is not None:
            yield Skipped(source=str(path), reason=reason)
        elif kind == "mbox":
            yield from _mbox(path, limits)
        elif kind == "mail":
            yield _mail_doc(path.read_bytes(), str(path), limits)
        elif kind == "note":
            yield _note(path)
        else:
            yield from _chat(path)
    except MailParseError as exc:
        yield Skipped(source=str(path), reason=str(exc))
    except OSError as exc:
        yield Skipped(source=str(path), reason=f"cannot read: {exc.strerror or exc}")


def _kind(path: Path) -> str | None:
    """What a file holds, by its name, else by its first line (an mbox's `From ` line, mail headers)."""
    suffix = path.suffix.lower()
    if suffix == ".mbox" or (suffix not in (".eml", ".json") and _is_mbox(path)):
        return "mbox"
    if suffix == ".eml" or (suffix == "" and _looks_like_mail(path)):
        return "mail"
    return {".txt": "note", ".md": "note", ".json": "chat"}.get(suffix)


def _unfit(path: Path, kind: str, limits: IngestLimits) -> str | None:
    """Why a file is not read at all: over its kind's size limit, or not text whatever its name says."""
    what, limit = {
        "mbox": ("mbox", limits.mbox_bytes),
        "mail": ("mail", limits.mail_bytes),
        "note": ("note", limits.note_bytes),
        "chat": ("chat export", limits.chat_bytes),
    }[kind]
    if (reason := too_big(path.stat().st_size, limit, what)) is not None:
        return reason
    with path.open("rb") as handle:
        return not_text(handle.read(1024))


def _doc_id(source: str, text: str) -> str:
    return hashlib.sha256(f"{source}\0{text}".encode()).hexdigest()[:32]


# --- mail ------------------------------------------------------------------------------------------


def _mail_doc(data: bytes, source: str, limits: IngestLimits) -> Document:
    if (reason := too_big(len(data), limits.mail_bytes, "mail")) is not None:
        raise MailParseError(reason)
    mail = parse_mail(data, limits.mime_parts)
    return Document(
        id=_doc_id(source, mail.message_id + "\0" + mail.fresh),
        kind="mail",
        text=mail.fresh,
        author=mail.from_addr,
        recipients=mail.to + mail.cc,
        date=mail.date,
        subject=mail.subject,
        thread_id=mail.thread_id,
        source=source,
        meta={
            "message_id": mail.message_id,
            "in_reply_to": mail.in_reply_to,
            "references": mail.references,
            "from_name": mail.from_name,
            "quoted": mail.quoted,
        },
    )


_MBOX_ESCAPE = re.compile(rb"^>(>*From )", re.MULTILINE)


def _mailbox_docs(box: mailbox.Mailbox, source: str, limits: IngestLimits) -> Iterator[Document | Skipped]:
    keys = sorted(box.iterkeys())
    if not keys:
        yield Skipped(source=source, reason="no messages found")
    for key in keys:
        where = f"{source}#{key}"
        try:
            data = _message_bytes(box, key, limits.mail_bytes)
            if (reason := not_text(data)) is not None:
                raise MailParseError(reason)
            if isinstance(box, mailbox.mbox):  # undo the ">From " escaping of body lines (mboxrd)
                data = _MBOX_ESCAPE.sub(rb"\1", data)
            yield _mail_doc(data, where, limits)
        except (MailParseError, OSError, KeyError) as exc:
            yield Skipped(source=where, reason=str(exc) or type(exc).__name__)


def _message_bytes(box: mailbox.Mailbox, key: str, limit: int) -> bytes:
    """One message's bytes, read no further than one byte past `limit`: a huge one is refused unread."""
    handle = box.get_file(key)
    try:
        data = handle.read(limit + 1)
    finally:
        handle.close()
    if (reason := too_big(len(data), limit, "mail")) is not None:
        raise MailParseError(reason)
    return data


def _mbox(path: Path, limits: IngestLimits) -> Iterator[Document | Skipped]:
    box = mailbox.mbox(path, create=False)
    try:
        yield from _mailbox_docs(box, str(path), limits)
    finally:
        box.close()


def _maildir(folder: Path, limits: IngestLimits) -> Iterator[Document | Skipped]:
    yield from _mailbox_docs(mailbox.Maildir(folder, factory=None, create=False), str(folder), limits)


def _is_maildir(folder: Path) -> bool:
    return (folder / "cur").is_dir() and (folder / "new").is_dir()


_FROM_LINE = re.compile(rb"^From \S+ .*\d{4}\s*$")


def _is_mbox(path: Path) -> bool:
    """An mbox starts with a `From sender date` separator line, not just the word "From"."""
    with path.open("rb") as handle:
        return bool(_FROM_LINE.match(handle.readline(1024)))


def _looks_like_mail(path: Path) -> bool:
    with path.open("rb") as handle:
        head = handle.read(2048).split(b"\n", 1)[0]
    name, sep, _ = head.partition(b":")
    return bool(sep) and name.replace(b"-", b"").isalnum()


# --- notes -----------------------------------------------------------------------------------------


def _note(path: Path) -> Document:
    text = path.read_bytes().decode("utf-8", errors="replace").replace("\r\n", "\n").strip()
    first = next((line for line in text.split("\n") if line.strip()), "")
    return Document(
        id=_doc_id(str(path), text),
        kind="note",
        text=text,
        date=datetime.fromtimestamp(path.stat().st_mtime, tz=UTC),
        subject=first.lstrip("# ").strip()[:120] or path.stem,
        thread_id=str(path),
        source=str(path),
    )


# --- chat exports ----------------------------------------------------------------------------------


class ChatMessage(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    sender: str = Field(alias="from", min_length=1)
    to: list[str] = []
    date: datetime | None = None
    text: str

    @field_validator("date")
    @classmethod
    def _utc(cls, value: datetime | None) -> datetime | None:
        if value is None:
            return None
        return (value if value.tzinfo else value.replace(tzinfo=UTC)).astimezone(UTC)


class ChatExport(BaseModel):
    title: str = ""
    participants: list[str] = []
    messages: list[ChatMessage]


def _chat(path: Path) -> Iterator[Document | Skipped]:
    try:
        data = json.loads(path.read_bytes())
        export = ChatExport.model_validate({"messages": data} if isinstance(data, list) else data)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        yield Skipped(source=str(path), reason=f"not valid JSON: {exc}")
        return
    except ValidationError as exc:
        err = exc.errors()[0]
        where = ".".join(str(p) for p in err["loc"])
        yield Skipped(source=str(path), reason=f"not a chat export: `{where}`: {err['msg']}")
        return
    thread = f"chat:{hashlib.sha256(str(path).encode()).hexdigest()[:16]}"
    for index, message in enumerate(export.messages):
        if not message.text.strip():
            continue
        sender = message.sender.strip()
        is_address = "@" in sender
        others = [p for p in export.participants if p.strip().lower() != sender.lower()]
        source = f"{path}#{index}"
        yield Document(
            id=_doc_id(source, message.text),
            kind="chat",
            text=message.text.strip(),
            author=sender.lower() if is_address else "",
            recipients=[r.strip().lower() for r in (message.to or others)],
            date=message.date,
            subject=export.title,
            thread_id=thread,
            source=source,
            meta={"from_name": "" if is_address else sender},
        )
