"""`persona inbox`: handle new mail once and show what happened; `persona inbox correct` teaches triage."""

from __future__ import annotations

from typing import Annotated

import typer

from persona.cli.context import Wide, app_from, console, print_json
from persona.errors import PersonaError
from persona.skills.triage import Correction, Label, record_correction

inbox_cli = typer.Typer(
    help="Handle new mail: triage, draft replies in your voice, queue sends for approval.",
    invoke_without_command=True,
)


@inbox_cli.callback()
def inbox_run(
    ctx: typer.Context,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print what happened to each mail as JSON.")
    ] = False,
    wide: Wide = False,
) -> None:
    """Fetch new mail since the last run and handle each message once."""
    if ctx.invoked_subcommand:
        return
    from persona.agent.inbox import process_inbox
    from persona.channels.email.delivery import open_email_channel
    from persona.cli.render import inbox_table

    app = app_from(ctx)
    channel = open_email_channel(app)
    progress = None if as_json else lambda o: console.print(f"{o.label:8} {o.subject}", markup=False)
    try:
        with console.status("reading new mail…"):
            report = process_inbox(app, channel, progress=progress)
    finally:
        channel.stop()
    if as_json:
        print_json(report)
    elif report.outcomes:
        console.print(inbox_table(report, wide))
    elif not report.stopped:
        console.print("No new mail.")
    if report.stopped:
        raise PersonaError(f"stopped early: {report.stopped}")


@inbox_cli.command("correct")
def inbox_correct(
    ctx: typer.Context,
    message_id: Annotated[
        str, typer.Argument(help="Message-ID of a mail the inbox handled (as shown by `persona inbox`).")
    ],
    label: Annotated[Label, typer.Argument(help="What it should have been.")],
) -> None:
    """Correct a triage: later mail from the same sender gets this label, and the example guides the model."""
    app = app_from(ctx)
    mid = message_id if message_id.startswith("<") else f"<{message_id}>"
    entry = app.store.ledger_get(f"mail:{mid}")
    if entry is None:
        raise PersonaError(f"no handled mail with Message-ID {mid}; `persona inbox` lists them")
    from persona.skills.mailbox import MailState

    state = MailState.model_validate_json(entry[1])
    record_correction(
        app.store,
        Correction(
            message_id=mid,
            sender=state.sender,
            label=label,
            subject=state.subject,
            snippet=state.snippet,
            at=app.clock().isoformat(),
        ),
    )
    console.print(
        f"Noted: mail from {state.sender} is [bold]{label.value}[/] from now on (was {state.label or '?'})."
    )


def register(cli: typer.Typer) -> None:
    cli.add_typer(inbox_cli, name="inbox")
