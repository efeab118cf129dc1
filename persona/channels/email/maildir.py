"""The embedded mail store: a Maildir++ tree under the home (inbox at the root, `.Drafts`, `.Sent`).

It cannot reach the internet: "sending" files the message in `.Sent` and drops its draft, which is
what the owner's client would show after a real send. The cursor is the set of inbox keys already
handled, one ledger key each (`mail-cursor:maildir:<key>`).
"""

from __future__ import annotations

import mailbox
from email.parser import BytesHeaderParser
from email.policy import default as default_policy
from pathlib import Path

from persona.channels.email.base import MailBackend, OutgoingMail, RawMail
from persona.store import StateStore

_CURSOR = "mail-cursor:maildir:"


class MaildirBackend(MailBackend):
    name = "maildir"

    def __init__(self, root: Path, store: StateStore):
        self.root = root
        self.store = store

    def open(self) -> None:
        self._folder("Drafts")
        self._folder("Sent")

    def _inbox(self) -> mailbox.Maildir:
        return mailbox.Maildir(self.root, create=True)

    def _folder(self, name: str) -> mailbox.Maildir:
        inbox = self._inbox()
        if name not in inbox.list_folders():
            return inbox.add_folder(name)
        return inbox.get_folder(name)

    def fetch_new(self) -> list[RawMail]:
        inbox = self._inbox()
        done = {key.removeprefix(_CURSOR) for key, _, _ in self.store.ledger_keys(_CURSOR)}
        fresh = [key for key in inbox.iterkeys() if key not in done]
        # Keys start with the delivery time in seconds; the key breaks ties deterministically.
        fresh.sort(key=lambda key: (_delivered(key), key))
        return [RawMail(key=key, data=inbox.get_bytes(key)) for key in fresh]

    def advance(self, key: str) -> None:
        self.store.ledger_set(_CURSOR + key, "handled")

    def mark_seen(self, key: str) -> None:
        inbox = self._inbox()
        try:
            msg = inbox.get_message(key)
        except KeyError:
            return  # the owner moved or deleted it meanwhile
        msg.set_subdir("cur")
        msg.add_flag("S")
        inbox[key] = msg

    def find_draft(self, message_id: str) -> str | None:
        return _find(self._folder("Drafts"), message_id)

    def save_draft(self, msg: OutgoingMail) -> str:
        drafts = self._folder("Drafts")
        existing = _find(drafts, msg.message_id)
        if existing is not None:
            return f"draft {msg.message_id} already in .Drafts"
        entry = mailbox.MaildirMessage(msg.to_bytes())
        entry.set_subdir("cur")
        entry.add_flag("D")
        drafts.add(entry)  # Maildir writes to tmp/ and renames: a crash leaves no half draft
        return f"draft {msg.message_id} saved in .Drafts"

    def was_sent(self, message_id: str) -> bool:
        return _find(self._folder("Sent"), message_id) is not None

    def send(self, msg: OutgoingMail) -> str:
        sent = self._folder("Sent")
        if _find(sent, msg.message_id) is None:
            entry = mailbox.MaildirMessage(msg.to_bytes())
            entry.set_subdir("cur")
            entry.add_flag("S")
            sent.add(entry)
        drafts = self._folder("Drafts")
        draft = _find(drafts, msg.message_id)
        if draft is not None:
            drafts.discard(draft)
        return f"{msg.message_id} filed in .Sent (the embedded mail store does not reach the internet)"


def _find(folder: mailbox.Maildir, message_id: str) -> str | None:
    parser = BytesHeaderParser(policy=default_policy)
    for key in folder.iterkeys():
        with folder.get_file(key) as handle:
            headers = parser.parse(handle)
        if (headers.get("Message-ID") or "").strip() == message_id:
            return key
    return None


def _delivered(key: str) -> float:
    head = key.split(".", 1)[0]
    return float(head) if head.isdigit() else 0.0
