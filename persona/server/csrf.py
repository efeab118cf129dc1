"""CSRF defence for the browser pages (double-submit token).

Browsers authenticate with an HttpOnly session cookie; a page reads the separate, readable
`persona_csrf` cookie and echoes it in the `X-CSRF-Token` header of every state-changing request.
Another site can make the browser send cookies but can neither read them nor set that header.
API clients that send `Authorization: Bearer` carry no ambient credentials and need no token.
"""

from __future__ import annotations

import hmac
import secrets

from fastapi import Request

from persona.server.errors import Forbidden

CSRF_COOKIE = "persona_csrf"
CSRF_HEADER = "x-csrf-token"
SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}


def new_csrf_token() -> str:
    return secrets.token_urlsafe(24)


def check_csrf(request: Request) -> None:
    if request.method in SAFE_METHODS:
        return
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER, "")
    if not cookie or not hmac.compare_digest(cookie, header):
        raise Forbidden("missing or wrong CSRF token; reload the page")
