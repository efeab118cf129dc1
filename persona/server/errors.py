"""Errors of the HTTP edge; all are PersonaErrors, so their one-line message reaches the user."""

from __future__ import annotations

import math

from persona.errors import PersonaError


class Unauthorized(PersonaError):
    """No token, or one that is unknown or revoked."""

    http_status = 401

    def http_headers(self) -> dict[str, str]:
        return {"WWW-Authenticate": "Bearer"}


class Forbidden(PersonaError):
    """A valid principal asked for something only the owner may do."""

    http_status = 403


class NotFound(PersonaError):
    """Nothing here for this principal (other people's sessions look exactly like missing ones)."""

    http_status = 404


class InvalidInput(PersonaError):
    """A value in the request the user can correct (a malformed date): 422, naming it."""

    http_status = 422


class RateLimited(PersonaError):
    http_status = 429

    def __init__(self, message: str, retry_after: float):
        super().__init__(message)
        self.retry_after = retry_after

    def http_headers(self) -> dict[str, str]:
        return {"Retry-After": str(max(1, math.ceil(self.retry_after)))}
