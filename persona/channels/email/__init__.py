"""Email channel: Maildir (embedded default) or IMAP/SMTP behind one MailBackend interface."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persona.channels.email.base import IncomingMail, MailBackend, OutgoingMail, RawMail
from persona.channels.email.channel import EmailChannel
from persona.channels.email.config import EmailSettings, load_email_settings

if TYPE_CHECKING:
    from persona.app import App


def open_backend(app: App, settings: EmailSettings) -> MailBackend:
    """The backend the settings choose; IMAP connects lazily on first use."""
    if settings.backend == "imap":
        from persona.channels.email.imap import ImapBackend

        return ImapBackend(settings, app.store)
    from persona.channels.email.maildir import MaildirBackend

    return MaildirBackend(app.home.mail_dir, app.store)


__all__ = [
    "EmailChannel",
    "EmailSettings",
    "IncomingMail",
    "MailBackend",
    "OutgoingMail",
    "RawMail",
    "load_email_settings",
    "open_backend",
]
