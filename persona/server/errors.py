"""Errors of the HTTP edge; all are PersonaErrors, so their one-line message reaches the user."""

from persona.errors import PersonaError


class Unauthorized(PersonaError):
    """No token, or one that is unknown or revoked."""


class Forbidden(PersonaError):
    """A valid principal asked for something only the owner may do."""


class NotFound(PersonaError):
    """Nothing here for this principal (other people's sessions look exactly like missing ones)."""


class InvalidInput(PersonaError):
    """A value in the request the user can correct (a malformed date): 422, naming it."""


class RateLimited(PersonaError):
    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after
