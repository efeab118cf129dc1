"""Errors meant for users: the CLI and the server show them as one line, never a traceback.

Each class says how the edges answer it, so errors are mapped in one place, here and in the channels'
and the server's own error modules: the server replies with the class's `http_status` (and its
`http_headers()`) and the message as `{"error": ...}`; the CLI prints the message as one line and exits 1.
"""

from __future__ import annotations

from typing import ClassVar


class PersonaError(Exception):
    """A problem the user can fix; its message says what and how."""

    http_status: ClassVar[int] = 400

    def http_headers(self) -> dict[str, str] | None:
        return None


class ConfigError(PersonaError):
    """The profile or settings are invalid or missing."""

    http_status = 422


class NotReady(PersonaError):
    """Something the twin needs (model, memory, home) is not prepared yet."""

    http_status = 503


class LLMUnavailable(PersonaError):
    """The LLM endpoint is down, slow or answered garbage."""

    http_status = 503


class InvalidEdit(PersonaError):
    """An edit of an action waiting for approval that a person may not make, or whose value does not fit."""

    http_status = 422

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class ActionFailed(PersonaError):
    """An approved action was carried out and its channel failed; the approval is kept as failed."""

    http_status = 502  # the owner's decision stands; the mail or calendar server failed


class InvalidPayload(PersonaError):
    """An Action whose payload does not fit its kind's model: refused before anything runs."""
