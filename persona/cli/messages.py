"""`persona messages`: what people left with the twin for you (the "for you" list)."""

from __future__ import annotations

from typing import Annotated

import typer

from persona.cli.context import AsJson, Wide, app_from, console, print_json

messages_cli = typer.Typer(
    help="Messages colleagues, contacts and strangers left with the twin for you.",
    invoke_without_command=True,
)


@messages_cli.callback()
def messages_list(
    ctx: typer.Context,
    all_: Annotated[bool, typer.Option("--all", help="Include messages already read.")] = False,
    limit: Annotated[
        int, typer.Option("--limit", "-n", min=1, max=1000, help="How many, newest first.")
    ] = 50,
    as_json: AsJson = False,
    wide: Wide = False,
) -> None:
    """List the messages left for you, newest first (unread ones unless --all)."""
    if ctx.invoked_subcommand:
        return
    from persona.cli.render import messages_table

    items = app_from(ctx).store.messages(unread_only=not all_, limit=limit)
    if as_json:
        print_json(items)
    elif items:
        console.print(messages_table(items, wide))
    else:
        console.print("No new messages." if not all_ else "No messages.")


@messages_cli.command("read")
def messages_read(ctx: typer.Context) -> None:
    """Mark every message as read."""
    app = app_from(ctx)
    unread = app.store.messages(unread_only=True, limit=10_000)
    app.store.mark_read([m.id for m in unread])
    console.print(f"{len(unread)} marked read.")


def register(cli: typer.Typer) -> None:
    cli.add_typer(messages_cli, name="messages")
