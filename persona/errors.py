"""Errors meant for users: the CLI and the server show them as one line, never a traceback."""


class PersonaError(Exception):
    """A problem the user can fix; its message says what and how."""


class ConfigError(PersonaError):
    """The profile or settings are invalid or missing."""


class NotReady(PersonaError):
    """Something the twin needs (model, memory, home) is not prepared yet."""


class LLMUnavailable(PersonaError):
    """The LLM endpoint is down, slow or answered garbage."""
