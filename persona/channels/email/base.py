"""The mail backend interface and the messages that cross it.

A backend keeps its own fetch cursor in the state store's ledger (IMAP UIDVALIDITY + last UID per
folder; Maildir keys) and advances it only when the caller says a message is handled (`advance`), so
a crash before that re-delivers the message and the per-message ledger decides what is left to do.
Drafts and sends are idempotent on the outgoing Message-ID: `save_draft` and `send` first look for a
message with that id in the Drafts / Sent folder.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from datetime import datetime
from email.message import EmailMessage
from email.utils import format_datetime, formataddr

from pydantic import BaseModel

from persona.channels.email.mailparse import ParsedMail


class RawMail(BaseModel):
    """One message as the backend holds it; `key` locates it in that backend."""

    key: str
    data: bytes


class IncomingMail(ParsedMail):
    """A parsed incoming message plus the headers triage needs. Body text is untrusted data."""

    key: str
    thread_id: str = ""
    reply_to: str = ""
    bulk: bool = False  # List-Id / List-Unsubscribe / Precedence: bulk: sent to a list, not to the owner
    auto: bool = False  # Auto-Submitted: written by a machine; replying could start a mail loop

    @property
    def text(self) -> str:
        """The new part of the message (quoted history cut), or the whole body when nothing was cut."""
        return self.fresh.strip() or self.body.strip()


class OutgoingMail(BaseModel):
    """A message the twin writes. Recipients come from the Action's targets, never from mail text."""

    message_id: str
    from_addr: str
    from_name: str = ""
    to: list[str]
    subject: str
    body: str
    in_reply_to: str = ""
    references: list[str] = []
    date: datetime

    def to_bytes(self) -> bytes:
        msg = EmailMessage()
        msg["From"] = formataddr((self.from_name, self.from_addr))
        msg["To"] = ", ".join(self.to)
        msg["Subject"] = self.subject
        msg["Date"] = format_datetime(self.date)
        msg["Message-ID"] = self.message_id
        if self.in_reply_to:
            msg["In-Reply-To"] = self.in_reply_to
        if self.references:
            msg["References"] = " ".join(self.references)
        msg.set_content(self.body)
        return msg.as_bytes()


class MailBackend(ABC):
    """Where mail comes from and goes to. Synchronous; one instance per process."""

    name: str

    def open(self) -> None:
        """Connect and make sure the Drafts and Sent folders exist."""

    def close(self) -> None:
        """Release connections."""

    @abstractmethod
    def fetch_new(self) -> list[RawMail]:
        """Messages past the cursor, oldest first. Does not move the cursor."""

    @abstractmethod
    def advance(self, key: str) -> None:
        """Move the cursor past the message at `key`: call only once its handling is durable."""

    @abstractmethod
    def mark_seen(self, key: str) -> None:
        """Flag the message as read in the owner's mailbox."""

    @abstractmethod
    def find_draft(self, message_id: str) -> str | None:
        """Where a draft with this Message-ID is stored, if any."""

    @abstractmethod
    def save_draft(self, msg: OutgoingMail) -> str:
        """Store the draft unless one with its Message-ID exists; return a receipt."""

    @abstractmethod
    def was_sent(self, message_id: str) -> bool:
        """Whether a message with this Message-ID is in the Sent folder."""

    @abstractmethod
    def send(self, msg: OutgoingMail) -> str:
        """Deliver the message, file it in Sent and drop its draft; return a receipt."""
