"""A real mail account: IMAP (imapclient) for reading, drafts and Sent; SMTP (smtplib) for sending.

Drafts are IMAP APPENDed to the server's \\Drafts folder, so the owner sees them in their own client.
The cursor per watched folder is `mail-cursor:imap:<user>@<host>/<folder>` = UIDVALIDITY + last UID;
a changed UIDVALIDITY restarts the folder from UID 1 (the per-message ledger drops repeats).
"""

from __future__ import annotations

import json
import smtplib
from collections.abc import Iterator
from contextlib import contextmanager

from imapclient import DRAFT, SEEN, IMAPClient
from imapclient.exceptions import IMAPClientError, LoginError
from imapclient.imapclient import DRAFTS, SENT

from persona.channels.email.base import MailBackend, OutgoingMail, RawMail
from persona.channels.email.errors import MailAuthFailed, MailError, MailUnreachable
from persona.settings import MailSettings
from persona.store import StateStore

_FETCH_BATCH = 50


class ImapBackend(MailBackend):
    name = "imap"

    def __init__(self, settings: MailSettings, store: StateStore):
        self.settings = settings
        self.store = store
        self._imap: IMAPClient | None = None
        self._drafts = "Drafts"
        self._sent = "Sent"

    # -- connection ---------------------------------------------------------------------------
    @property
    def _where(self) -> str:
        return f"IMAP server {self.settings.imap_host}:{self.settings.imap_port_or_default}"

    @contextmanager
    def _mapped(self, where: str) -> Iterator[None]:
        """Translate library and socket errors into one-line errors naming the server."""
        try:
            yield
        except (LoginError, smtplib.SMTPAuthenticationError):
            raise MailAuthFailed(
                f"{where} refused the login for {self._user(where)}: check user and password"
            ) from None
        except (smtplib.SMTPRecipientsRefused, smtplib.SMTPSenderRefused) as exc:
            raise MailError(f"{where} refused the message: {exc}") from None
        except (OSError, smtplib.SMTPException) as exc:  # refused, DNS, timeout, TLS, disconnects
            raise MailUnreachable(f"cannot reach {where}: {exc.__class__.__name__}: {exc}") from None
        except IMAPClientError as exc:
            raise MailError(f"{where}: {exc}") from None

    def _user(self, where: str) -> str:
        if where.startswith("SMTP"):
            return self.settings.smtp_user or self.settings.imap_user
        return self.settings.imap_user

    def _client(self) -> IMAPClient:
        if self._imap is not None:
            try:
                self._imap.noop()
                return self._imap
            except (IMAPClientError, OSError):
                self._imap = None  # dropped by the server: reconnect below
        s = self.settings
        with self._mapped(self._where):
            client = IMAPClient(
                s.imap_host,
                s.imap_port_or_default,
                ssl=s.imap_security == "ssl",
                ssl_context=s.tls_context(),
                timeout=s.timeout,
            )
            if s.imap_security == "starttls":
                client.starttls(s.tls_context())
            client.login(s.imap_user, s.imap_secret())
        self._imap = client
        return client

    def open(self) -> None:
        client = self._client()
        with self._mapped(self._where):
            self._drafts = client.find_special_folder(DRAFTS) or self._ensure(client, "Drafts")
            self._sent = client.find_special_folder(SENT) or self._ensure(client, "Sent")

    @staticmethod
    def _ensure(client: IMAPClient, name: str) -> str:
        if not client.folder_exists(name):
            client.create_folder(name)
        return name

    def close(self) -> None:
        if self._imap is not None:
            try:
                self._imap.logout()
            except (IMAPClientError, OSError):
                pass  # already gone; nothing to release
            self._imap = None

    # -- reading ------------------------------------------------------------------------------
    def _cursor_key(self, folder: str) -> str:
        return f"mail-cursor:imap:{self.settings.imap_user}@{self.settings.imap_host}/{folder}"

    def _cursor(self, folder: str) -> tuple[int, int]:
        entry = self.store.ledger_get(self._cursor_key(folder))
        if entry is None:
            return 0, 0
        value = json.loads(entry[1])
        return value["uidvalidity"], value["uid"]

    def fetch_new(self) -> list[RawMail]:
        client = self._client()
        found: list[RawMail] = []
        with self._mapped(self._where):
            for folder in self.settings.imap_folders:
                uidvalidity = client.select_folder(folder, readonly=True)[b"UIDVALIDITY"]
                known, last = self._cursor(folder)
                if known != uidvalidity:
                    last = 0
                # `N:*` always matches the highest UID, even below N: filter.
                uids = sorted(uid for uid in client.search(["UID", f"{last + 1}:*"]) if uid > last)
                for start in range(0, len(uids), _FETCH_BATCH):
                    batch = uids[start : start + _FETCH_BATCH]
                    data = client.fetch(batch, ["BODY.PEEK[]"])  # PEEK: leave \Seen to the owner
                    found.extend(
                        RawMail(key=f"{folder}/{uidvalidity}/{uid}", data=data[uid][b"BODY[]"])
                        for uid in batch
                        if uid in data
                    )
        return found

    def advance(self, key: str) -> None:
        folder, uidvalidity, uid = _split_key(key)
        known, last = self._cursor(folder)
        if known == uidvalidity and uid <= last:
            return
        self.store.ledger_set(
            self._cursor_key(folder), "at", json.dumps({"uidvalidity": uidvalidity, "uid": uid})
        )

    def mark_seen(self, key: str) -> None:
        folder, uidvalidity, uid = _split_key(key)
        client = self._client()
        with self._mapped(self._where):
            if client.select_folder(folder)[b"UIDVALIDITY"] == uidvalidity:
                client.add_flags([uid], [SEEN])

    # -- drafts and sending ---------------------------------------------------------------------
    def _find(self, folder: str, message_id: str) -> list[int]:
        client = self._client()
        with self._mapped(self._where):
            client.select_folder(folder, readonly=True)
            return client.search(["HEADER", "Message-ID", message_id])

    def find_draft(self, message_id: str) -> str | None:
        uids = self._find(self._drafts, message_id)
        return f"{self._drafts}/{uids[0]}" if uids else None

    def save_draft(self, msg: OutgoingMail) -> str:
        if self.find_draft(msg.message_id):
            return f"draft {msg.message_id} already in {self._drafts}"
        with self._mapped(self._where):
            self._client().append(self._drafts, msg.to_bytes(), flags=[DRAFT, SEEN])
        return f"draft {msg.message_id} saved in {self._drafts}"

    def was_sent(self, message_id: str) -> bool:
        return bool(self._find(self._sent, message_id))

    def send(self, msg: OutgoingMail) -> str:
        self._smtp_send(msg)
        client = self._client()
        with self._mapped(self._where):
            client.append(self._sent, msg.to_bytes(), flags=[SEEN])
            drafts = self._find(self._drafts, msg.message_id)
            if drafts:
                client.select_folder(self._drafts)
                client.delete_messages(drafts)
                if client.has_capability("UIDPLUS"):
                    client.uid_expunge(drafts)
                else:
                    client.expunge()
        return f"{msg.message_id} sent via {self.settings.smtp_host} to {', '.join(msg.to)}"

    def _smtp_send(self, msg: OutgoingMail) -> None:
        s = self.settings
        where = f"SMTP server {s.smtp_host}:{s.smtp_port_or_default}"
        with self._mapped(where):
            if s.smtp_security == "ssl":
                smtp: smtplib.SMTP = smtplib.SMTP_SSL(
                    s.smtp_host, s.smtp_port_or_default, timeout=s.timeout, context=s.tls_context()
                )
            else:
                smtp = smtplib.SMTP(s.smtp_host, s.smtp_port_or_default, timeout=s.timeout)
            with smtp:
                if s.smtp_security == "starttls":
                    smtp.starttls(context=s.tls_context())
                user = s.smtp_user or s.imap_user
                if user:
                    smtp.login(user, s.smtp_secret())
                smtp.sendmail(msg.from_addr, msg.to, msg.to_bytes())


def _split_key(key: str) -> tuple[str, int, int]:
    folder, uidvalidity, uid = key.rsplit("/", 2)
    return folder, int(uidvalidity), int(uid)
