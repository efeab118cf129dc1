"""Sign in with a token (from an invite link or pasted by the owner) to a browser session, and out again."""

from __future__ import annotations

import asyncio
from urllib.parse import urlsplit

from fastapi import APIRouter, Request, Response
from pydantic import BaseModel, Field

from persona.server.auth import SESSION_COOKIE, principal_for_token, principal_of
from persona.server.csrf import CSRF_COOKIE, check_csrf, new_csrf_token
from persona.server.errors import Forbidden, Unauthorized
from persona.server.state import server_state
from persona.server.tokens import parse

router = APIRouter(prefix="/auth", tags=["auth"])


class LoginIn(BaseModel):
    token: str = Field(min_length=1, max_length=200)


class LoginOut(BaseModel):
    role: str
    next: str


def _same_origin(request: Request) -> bool:
    origin = request.headers.get("origin")
    return origin is None or urlsplit(origin).netloc == request.headers.get("host", "")


@router.post("/session")
async def login(body: LoginIn, request: Request, response: Response) -> LoginOut:
    """Check the token and set a cookie holding a new session id (the token itself stays with the user)."""
    if not _same_origin(request):
        raise Forbidden("sign-in must come from this site's own pages")
    state = server_state(request)
    principal = await principal_for_token(request, body.token)
    if principal is None:
        raise Unauthorized("this link or token is unknown or was revoked; ask the owner for a new one")
    token_id = parse(body.token)[0]  # a principal means it parsed
    session = await asyncio.to_thread(state.web_sessions.open, token_id)
    await asyncio.to_thread(
        state.app.store.audit, "signed_in", principal.address or principal.role.value, "web", {}
    )
    secure, max_age = state.config.secure_cookies, state.web_sessions.days * 86400
    # Lax: a link from a mail client still opens the chat signed in; writes need the CSRF header anyway.
    response.set_cookie(
        SESSION_COOKIE, session, httponly=True, samesite="lax", secure=secure, max_age=max_age
    )
    response.set_cookie(
        CSRF_COOKIE, new_csrf_token(), httponly=False, samesite="lax", secure=secure, max_age=max_age
    )
    return LoginOut(role=principal.role.value, next="/today" if principal.is_owner else "/chat")


@router.post("/logout", status_code=204)
async def logout(request: Request, response: Response) -> None:
    """End this browser's session on the server: its cookie no longer signs anyone in. Audited with who
    it was (never the token or the session id); a cookie of no live session signs nobody out."""
    if session := request.cookies.get(SESSION_COOKIE, ""):
        check_csrf(request)  # another site must not sign the owner out
        state = server_state(request)
        record = await asyncio.to_thread(state.web_sessions.record, session)
        await asyncio.to_thread(state.web_sessions.close, session)
        if record is not None:
            principal = principal_of(state, record)
            who = (principal.address or principal.role.value) if principal else record.address
            await asyncio.to_thread(state.app.store.audit, "signed_out", who, "web", {})
    response.delete_cookie(SESSION_COOKIE)
    response.delete_cookie(CSRF_COOKIE)
