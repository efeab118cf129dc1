"""Mail errors the owner can act on, each one line naming the server and what to check."""

from __future__ import annotations

from persona.errors import PersonaError


class MailError(PersonaError):
    """Something went wrong talking to the mail store or server."""

    http_status = 502  # the request was fine; the mail server behind it failed


class MailAuthFailed(MailError):
    """The server refused the user name or password."""


class MailUnreachable(MailError):
    """The server could not be reached (wrong host/port, down, TLS mismatch, timeout)."""


class SendUncertain(MailError):
    """A send was interrupted after it may have left: it is not retried, the owner must check."""
