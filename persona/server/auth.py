"""Who is asking: the owner token or an invite token, from `Authorization: Bearer` or the session cookie.

Dependencies for routes: `current_principal` (anyone with a live token), `owner_principal`,
`chat_principal` (adds the chat rate limit). Invite tokens map to the invited address, resolved
against the profile on each request, so editing the persona changes a colleague's rights at once.
"""

from __future__ import annotations

import asyncio
from typing import Annotated

from fastapi import Depends, Request

from persona.channels.chat import principal_key
from persona.events import Principal
from persona.server.csrf import check_csrf
from persona.server.errors import Forbidden, Unauthorized
from persona.server.state import ServerState, server_state

SESSION_COOKIE = "persona_session"


async def principal_for_token(state: ServerState, token: str) -> Principal | None:
    # argon2 runs once per token, in a thread; after that the check is one read, and a hop would cost more
    record = state.tokens.known(token) or await asyncio.to_thread(state.tokens.check, token)
    if record is None:
        return None
    if record.kind == "owner":
        return Principal.owner(state.app.profile)
    principal = Principal.resolve(state.app.profile, record.address)
    return None if principal.is_owner else principal  # an invite never grants the owner's rights


async def optional_principal(request: Request) -> Principal | None:
    """The caller, or None without credentials; a presented but bad token is an error, not anonymity."""
    state = server_state(request)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    if not token:
        token = request.cookies.get(SESSION_COOKIE, "")
        if not token:
            return None
        check_csrf(request)  # cookies ride along on cross-site requests; bearer headers cannot
    principal = await principal_for_token(state, token)
    if principal is None:
        raise Unauthorized("this token is unknown or was revoked; ask the owner for a new invite link")
    return principal


async def current_principal(
    request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Principal:
    if principal is None:
        raise Unauthorized("sign in first: open your invite link, or send Authorization: Bearer TOKEN")
    server_state(request).api_limiter.hit(principal_key(principal))
    return principal


async def owner_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_owner:
        raise Forbidden("only the owner can do this")
    return principal


async def chat_principal(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    server_state(request).chat_limiter.hit(principal_key(principal))
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
Owner = Annotated[Principal, Depends(owner_principal)]
Chatter = Annotated[Principal, Depends(chat_principal)]
