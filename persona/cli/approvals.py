"""`persona approvals`: what waits for the owner, and what was decided. A thin shell over the gate and
persona.approval_detail, so the CLI checks an edit exactly as the web desk does."""

from __future__ import annotations

from typing import Annotated, Any

import typer

from persona.approval_detail import approval_detail
from persona.channels.delivery import carried_out
from persona.cli.context import AsJson, Wide, app_from, console, print_json
from persona.store import Approval

approvals_cli = typer.Typer(
    help="What waits for the owner: list (the default), show, approve (optionally edited), "
    "reject; retry or dismiss a failed one.",
    no_args_is_help=False,
    invoke_without_command=True,
)
AllApprovals = Annotated[bool, typer.Option("--all", help="Include decided ones.")]
Reason = Annotated[str, typer.Option("--reason", help="Why, for the audit log.")]


@approvals_cli.command("list")
def approvals_list(
    ctx: typer.Context, all_: AllApprovals = False, as_json: AsJson = False, wide: Wide = False
) -> None:
    """List pending approvals (with --all, decided ones too)."""
    app = app_from(ctx)
    items = app.store.approvals(None if all_ else "pending")
    if as_json:
        print_json(items)
        return
    if not items:
        console.print("Nothing waits for approval.")
        return
    from persona.cli.render import approvals_table

    console.print(approvals_table(items, wide))


@approvals_cli.callback()
def approvals_default(
    ctx: typer.Context, all_: AllApprovals = False, as_json: AsJson = False, wide: Wide = False
) -> None:
    if ctx.invoked_subcommand is None:
        approvals_list(ctx, all_, as_json, wide)


@approvals_cli.command("show")
def approvals_show(ctx: typer.Context, approval_id: str, as_json: AsJson = False) -> None:
    """Show one approval in full: where its targets and content came from, what it answers, what you may edit."""
    detail = approval_detail(app_from(ctx), approval_id)
    if as_json:
        print_json(detail)
        return
    a = detail.approval
    console.print(
        f"[bold]{a.action.kind.value}[/] {a.id}  ({a.status})\n{a.action.summary}\nwhy it waits: {a.reason}",
        highlight=False,
    )
    console.print("targets: " + ", ".join(a.action.targets), highlight=False)
    for origin in detail.provenance:
        console.print(f"{origin.label.lower()}: " + ", ".join(origin.sources), highlight=False)
    if (original := detail.original) is not None:
        console.print(
            f"[bold]answers[/] {original.channel} from {original.sender}"
            f"{' on ' + original.date if original.date else ''}: {original.subject}\n{original.text}",
            highlight=False,
        )
    editable = {f.name: f for f in detail.editable}
    for key, value in a.effective_action.payload.items():
        field = editable.get(key)
        console.print(f"[bold]{key}[/]{f' (edit with --{key})' if field else ''}:\n{value}", highlight=False)
        if field and field.choices:
            console.print(
                "also free: " + ", ".join(f"{c.label} ({c.start})" for c in field.choices), highlight=False
            )


@approvals_cli.command("approve")
def approvals_approve(
    ctx: typer.Context,
    approval_id: str,
    body: Annotated[
        str | None, typer.Option("--body", help="Replace the text of a mail before it goes out.")
    ] = None,
    subject: Annotated[str | None, typer.Option("--subject", help="Replace the subject of a mail.")] = None,
    start: Annotated[
        str | None,
        typer.Option(
            "--start",
            help="Move a meeting: a new start like 2026-03-03T15:00 (your time zone; it keeps its length).",
        ),
    ] = None,
    end: Annotated[str | None, typer.Option("--end", help="A meeting's new end.")] = None,
) -> None:
    """Approve and carry out an action, with your edits (checked first: a bad one leaves it waiting)."""
    app = app_from(ctx)
    given: dict[str, Any] = {"body": body, "subject": subject, "start": start, "end": end}
    edited = {k: v for k, v in given.items() if v is not None}
    by = app.profile.owner.emails[0]
    _report(carried_out(app, approval_id, lambda: app.gate.approve(approval_id, by=by, edited=edited)))


@approvals_cli.command("reject")
def approvals_reject(ctx: typer.Context, approval_id: str, reason: Reason = "") -> None:
    """Reject an action; nothing is sent."""
    app = app_from(ctx)
    _report(app.gate.reject(approval_id, by=app.profile.owner.emails[0], reason=reason))


@approvals_cli.command("retry")
def approvals_retry(ctx: typer.Context, approval_id: str) -> None:
    """Carry out a failed action again (a mail that may already have left is not sent twice)."""
    app = app_from(ctx)
    _report(
        carried_out(app, approval_id, lambda: app.gate.retry(approval_id, by=app.profile.owner.emails[0]))
    )


@approvals_cli.command("dismiss")
def approvals_dismiss(ctx: typer.Context, approval_id: str, reason: Reason = "") -> None:
    """Put a failed action away without carrying it out."""
    app = app_from(ctx)
    _report(app.gate.dismiss(approval_id, by=app.profile.owner.emails[0], reason=reason))


def _report(done: Approval) -> None:
    """One line: the approval's short id, its status and what the channel reported."""
    console.print(
        f"{done.id[:8]} {done.status}" + (f": {done.receipt}" if done.receipt else ""), highlight=False
    )


def register(cli: typer.Typer) -> None:
    cli.add_typer(approvals_cli, name="approvals")
