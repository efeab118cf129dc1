"""What ingest and mail parsing read at all: a size limit per kind of file, a look at a file's first bytes.

A junk file must cost little: a 50 MB random file named `.eml` once grew the mail parser to 14 GB.
Files over their kind's limit are skipped before they are read, and a file whose first KB is not
text is skipped whatever its name says; each with a reason the ingest summary prints.
A core module: the settings, the email channel's parser and memory's loaders all read it.
"""

from __future__ import annotations

from pydantic import BaseModel, Field

MiB = 1024 * 1024
# The defaults, also those of the PERSONA_INGEST_MAX_* settings (persona.settings).
MAIL_BYTES = 25 * MiB  # one message: an .eml, a Maildir file, one message of an mbox (a provider's usual cap)
MBOX_BYTES = 4096 * MiB  # a whole mbox; it is read one message at a time
NOTE_BYTES = 2 * MiB  # a .txt or .md note: ~350k words, a book
CHAT_BYTES = 20 * MiB  # a chat export .json, parsed whole
MIME_PARTS = 500  # parts of one message; a mail with more is skipped

_SNIFF_BYTES = 1024
_ODD_SHARE = 0.3  # of the first KB: undecodable bytes and control characters, above which it is not text
_TEXT_CONTROLS = frozenset("\t\n\r\f\b\x1b")


class IngestLimits(BaseModel):
    mail_bytes: int = Field(default=MAIL_BYTES, ge=1)
    mbox_bytes: int = Field(default=MBOX_BYTES, ge=1)
    note_bytes: int = Field(default=NOTE_BYTES, ge=1)
    chat_bytes: int = Field(default=CHAT_BYTES, ge=1)
    mime_parts: int = Field(default=MIME_PARTS, ge=1)


def too_big(size: int, limit: int, what: str) -> str | None:
    """The reason a `what` of `size` bytes is skipped, if it is over `limit`."""
    if size <= limit:
        return None
    return f"{what} larger than {_size(limit)} (PERSONA_INGEST_MAX_{what.split()[0].upper()}_BYTES)"


def not_text(head: bytes) -> str | None:
    """The reason a file starting with `head` is skipped, if it does not look like text: a NUL byte, or
    too many bytes that are neither UTF-8 nor printable. Latin-1 mail has a few odd bytes; random data
    has about half."""
    head = head[:_SNIFF_BYTES]
    if b"\0" in head:
        return "binary, not text (NUL bytes)"
    return "binary, not text" if looks_binary(head.decode("utf-8", errors="replace")) else None


def looks_binary(text: str) -> bool:
    """Whether decoded text reads as binary data: over _ODD_SHARE of it undecodable bytes (U+FFFD) and
    control characters. What `not_text` refuses in a file's first KB; `persona doctor` looks for it in
    what memory holds (a file that starts as text and goes on as junk)."""
    odd = sum(1 for c in text if c == "\ufffd" or (c < " " and c not in _TEXT_CONTROLS))
    return odd > _ODD_SHARE * max(len(text), 1)


def _size(limit: int) -> str:
    return f"{limit / MiB:g} MiB" if limit >= MiB else f"{limit} bytes"
