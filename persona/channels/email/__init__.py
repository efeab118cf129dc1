"""Email channel: Maildir (embedded default) or IMAP/SMTP behind one MailBackend interface, chosen by
the mail section of the settings (`settings.mail`, PERSONA_MAIL_*)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from persona.channels.email.base import IncomingMail, MailBackend, OutgoingMail, RawMail
from persona.channels.email.channel import EmailChannel

if TYPE_CHECKING:
    from persona.app import App


def open_backend(app: App) -> MailBackend:
    """The backend the settings choose; IMAP connects lazily on first use."""
    if app.settings.mail.backend == "imap":
        from persona.channels.email.imap import ImapBackend

        return ImapBackend(app.settings.mail, app.store)
    from persona.channels.email.maildir import MaildirBackend

    return MaildirBackend(app.home.mail_dir, app.store)


__all__ = [
    "EmailChannel",
    "IncomingMail",
    "MailBackend",
    "OutgoingMail",
    "RawMail",
    "open_backend",
]
