"""`persona serve`, `persona invite`, `persona token owner`: run the web service and hand out access."""

from __future__ import annotations

from typing import Annotated

import typer

from persona.cli.context import app_from, console, err_console
from persona.errors import PersonaError
from persona.events import Principal
from persona.profile import Role

DEFAULT_URL = "http://127.0.0.1:8000"
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}


def _tokens(ctx: typer.Context):
    from persona.server.tokens import TokenStore

    app = app_from(ctx)
    return app, TokenStore(app.home.state_db, clock=app.clock)


def serve(
    ctx: typer.Context,
    host: Annotated[
        str, typer.Option("--host", help="Address to listen on; anything but loopback exposes the twin.")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", help="TCP port.")] = 8000,
) -> None:
    """Run the always-on service: colleague chat, owner dashboard, HTTP API."""
    import uvicorn

    from persona.scheduler.service import scheduler_lifespan
    from persona.server import create_app

    app, tokens = _tokens(ctx)
    base = f"http://{host if ':' not in host else f'[{host}]'}:{port}"
    lines = []
    if not tokens.has_owner_token():
        lines.append(f"Owner sign-in (first start, keep it private): {base}/login#{tokens.issue('owner')}")
    lines += [
        f"Desk: {base}/today   (a new owner token: `persona token owner`)",
        f"Chat:      {base}/chat   (invite colleagues: `persona invite ADDRESS`)",
        f"API docs:  {base}/docs   metrics: {base}/metrics   health: {base}/health",
    ]
    for line in lines:  # unwrapped and unstyled, so links copy whole
        console.print(line, highlight=False, soft_wrap=True, markup=False)
    if host not in _LOOPBACK:
        err_console.print(
            f"[yellow]warning:[/] listening on {host}: anyone who can reach it may try tokens; "
            "put HTTPS in front of it."
        )
    uvicorn.run(create_app(app, lifespan_hooks=[scheduler_lifespan]), host=host, port=port, log_level="info")


def invite(
    ctx: typer.Context,
    address: Annotated[str, typer.Argument(help="The colleague's email address.")],
    revoke: Annotated[bool, typer.Option("--revoke", help="Revoke this address's invites instead.")] = False,
    url: Annotated[str, typer.Option("--url", help="Where the server is reached.")] = DEFAULT_URL,
) -> None:
    """Print a personal invite link for ADDRESS (or revoke their links)."""
    app, tokens = _tokens(ctx)
    if revoke:
        count = tokens.revoke(address)
        app.store.audit("invite_revoked", "owner", address.strip().lower(), {"count": count})
        console.print(f"Revoked {count} invite{'s' if count != 1 else ''} of {address.strip().lower()}.")
        return
    principal = Principal.resolve(app.profile, address)
    if principal.is_owner:
        raise PersonaError(f"{address} is the owner's address; use `persona token owner`")
    if principal.role is Role.STRANGER:
        err_console.print(
            f"[yellow]note:[/] {address} is not in the persona's people; they will be treated as a "
            "stranger (public memory only). Add them to persona.yaml to change that."
        )
    link = f"{url.rstrip('/')}/join#{tokens.issue('invite', address)}"
    app.store.audit("invite_issued", "owner", address.strip().lower(), {"role": principal.role.value})
    console.print(
        f"Invite for {principal.name or address} ({principal.role.value}); send it to them privately:"
    )
    console.print(link, highlight=False, soft_wrap=True)


def owner_token(
    ctx: typer.Context,
    url: Annotated[str, typer.Option("--url", help="Where the server is reached.")] = DEFAULT_URL,
) -> None:
    """Make a new owner token; the previous one stops working (tokens are stored hashed, never shown again)."""
    app, tokens = _tokens(ctx)
    token = tokens.issue("owner")
    app.store.audit("owner_token_rotated", "owner", "token", {})
    console.print(token, highlight=False, soft_wrap=True)
    console.print(f"Sign in: {url.rstrip('/')}/login#{token}", highlight=False, soft_wrap=True)


def register(cli: typer.Typer) -> None:
    cli.command()(serve)
    cli.command()(invite)
    token = typer.Typer(help="Access tokens.", no_args_is_help=True)
    token.command("owner")(owner_token)
    cli.add_typer(token, name="token")
