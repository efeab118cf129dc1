"""Who is asking: the owner or an invited person, from `Authorization: Bearer TOKEN` or a browser session.

Dependencies for routes: `current_principal` (anyone signed in), `owner_principal`, `chat_principal`
(adds the chat limit). A token or session maps to the owner or to the invited address, resolved against
the profile on each request, so editing the persona changes a colleague's rights at once. Tokens are
checked by persona/server/verifier.py; the session cookie holds a session id (web_sessions.py).
"""

from __future__ import annotations

import ipaddress
from typing import Annotated

from fastapi import Depends, Request

from persona.channels.chat import principal_key
from persona.events import Principal
from persona.server.csrf import check_csrf
from persona.server.errors import Forbidden, Unauthorized
from persona.server.state import ServerState, server_state
from persona.server.tokens import TokenRecord

SESSION_COOKIE = "persona_session"


def principal_of(state: ServerState, record: TokenRecord) -> Principal | None:
    if record.kind == "owner":
        return Principal.owner(state.app.profile)
    principal = Principal.resolve(state.app.profile, record.address)
    return None if principal.is_owner else principal  # an invite never grants the owner's rights


def client_address(request: Request) -> str:
    """Whom failed sign-ins are counted against: the peer's address, an IPv6 one by its /64 (one
    machine usually holds a whole /64). Behind a proxy this is the proxy."""
    host = request.client.host if request.client else ""
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host or "unknown"
    return str(ipaddress.ip_network(f"{address}/64", strict=False)) if address.version == 6 else str(address)


async def principal_for_token(request: Request, token: str) -> Principal | None:
    state = server_state(request)
    record = await state.verifier.verify(token, client_address(request))
    return principal_of(state, record) if record else None


async def optional_principal(request: Request) -> Principal | None:
    """The caller, or None without credentials; a presented but bad token or session is an error."""
    state = server_state(request)
    header = request.headers.get("authorization", "")
    token = header[7:].strip() if header.lower().startswith("bearer ") else ""
    session = request.cookies.get(SESSION_COOKIE, "")
    if token:
        if (principal := await principal_for_token(request, token)) is None:
            raise Unauthorized("this token is unknown or was revoked; ask the owner for a new one")
        return principal
    if not session:
        return None
    check_csrf(request)  # cookies ride along on cross-site requests; bearer headers cannot
    record = state.web_sessions.record(session)
    if record is None or (principal := principal_of(state, record)) is None:
        raise Unauthorized("signed out, or the session expired or its link was revoked; sign in again")
    return principal


async def current_principal(
    request: Request, principal: Annotated[Principal | None, Depends(optional_principal)]
) -> Principal:
    if principal is None:
        raise Unauthorized("sign in first: open your invite link, or send Authorization: Bearer TOKEN")
    state = server_state(request)
    (state.owner_api_limit if principal.is_owner else state.api_limit).hit(principal_key(principal))
    return principal


async def owner_principal(principal: Annotated[Principal, Depends(current_principal)]) -> Principal:
    if not principal.is_owner:
        raise Forbidden("only the owner can do this")
    return principal


async def chat_principal(
    request: Request, principal: Annotated[Principal, Depends(current_principal)]
) -> Principal:
    server_state(request).chat_limit.hit(principal_key(principal))
    return principal


Caller = Annotated[Principal, Depends(current_principal)]
Owner = Annotated[Principal, Depends(owner_principal)]
Chatter = Annotated[Principal, Depends(chat_principal)]
