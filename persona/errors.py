"""Errors meant for users: the CLI and the server show them as one line, never a traceback."""


class PersonaError(Exception):
    """A problem the user can fix; its message says what and how."""


class ConfigError(PersonaError):
    """The profile or settings are invalid or missing."""


class NotReady(PersonaError):
    """Something the twin needs (model, memory, home) is not prepared yet."""


class LLMUnavailable(PersonaError):
    """The LLM endpoint is down, slow or answered garbage."""


class InvalidEdit(PersonaError):
    """An edit of an action waiting for approval that a person may not make, or whose value does not fit."""

    def __init__(self, field: str, message: str):
        super().__init__(f"{field}: {message}")
        self.field = field


class ActionFailed(PersonaError):
    """An approved action was carried out and its channel failed; the approval is kept as failed."""


class InvalidPayload(PersonaError):
    """An Action whose payload does not fit its kind's model: refused before anything runs."""
