"""Core commands: init, ingest, ask, chat, audit, doctor, model, demo."""

from __future__ import annotations

import asyncio
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Annotated

import typer
from pydantic import ValidationError

from persona.app import App
from persona.cli.context import Wide, app_from, console, print_json
from persona.errors import PersonaError
from persona.events import Event, Principal, Provenance
from persona.profile import Audience, Owner, Profile, load_profile, save_profile

if TYPE_CHECKING:
    from persona.agent.runner import Twin


def init(
    ctx: typer.Context,
    name: Annotated[str, typer.Option("--name", help="The owner's full name.")],
    email: Annotated[list[str], typer.Option("--email", help="The owner's address; repeat for several.")],
    timezone: Annotated[str, typer.Option("--timezone", help="IANA time zone, e.g. Europe/Berlin.")] = "UTC",
    role: Annotated[str, typer.Option("--role", help="Job title, e.g. 'Engineering lead'.")] = "",
    from_file: Annotated[
        Path | None, typer.Option("--from", help="Start from an existing profile YAML.")
    ] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing profile.")] = False,
) -> None:
    """Create a twin's home with a persona profile you then edit (persona.yaml)."""
    home = ctx.obj["home"].ensure()
    if home.profile_path.exists() and not force:
        raise PersonaError(f"{home.profile_path} exists; edit it, or pass --force to start over")
    if from_file:
        profile = load_profile(from_file)
    else:
        try:
            profile = Profile(owner=Owner(name=name, emails=email, timezone=timezone, role=role))
        except ValidationError as exc:
            err = exc.errors()[0]
            option = "--" + str(err["loc"][-1] if err["loc"][-1] != 0 else err["loc"][-2]).replace(
                "emails", "email"
            )
            raise typer.BadParameter(err["msg"].removeprefix("Value error, "), param_hint=option) from None
    save_profile(profile, home.profile_path)
    console.print(f"Created [bold]{home.profile_path}[/]. Edit it to add your people, boundaries and rules.")
    console.print("Next: [bold]persona ingest PATH...[/] with your sent mail, notes and chats.")


def ingest(
    ctx: typer.Context,
    paths: Annotated[
        list[Path], typer.Argument(help="Files or folders: mbox, .eml, Maildir, .txt/.md, chat .json.")
    ],
    audience: Annotated[
        Audience, typer.Option("--audience", help="Who may ever see what these files say.")
    ] = Audience.OWNER,
) -> None:
    """Read the owner's writing into memory (re-ingesting the same files adds nothing)."""
    from persona.cli.render import ingest_table
    from persona.memory.ingest import ingest as run_ingest
    from persona.memory.ingest import new_run_id

    app = app_from(ctx)
    for path in paths:
        if not path.exists():
            raise PersonaError(f"{path}: no such file or folder")
    paths = [path.absolute() for path in paths]  # items name their file, wherever `forget --source` runs
    run = new_run_id(app.clock())
    # started, then finished or failed: `persona doctor` names a run that left items and did not finish
    app.store.audit(
        "ingest_started", "owner", run, {"paths": [str(p) for p in paths], "audience": audience.value}
    )
    try:
        summary = run_ingest(
            paths,
            store=app.memory,
            profile=app.profile,
            audience=audience,
            progress=console,
            limits=app.settings.ingest,
            run=run,
        )
    except BaseException as exc:  # Ctrl-C too; a kill -9 leaves the run started only
        app.store.audit("ingest_failed", "owner", run, {"error": f"{type(exc).__name__}: {exc}"[:300]})
        raise
    app.store.audit(
        "ingested",
        "owner",
        run,
        {"added": summary.chunks_added, "files": summary.files, "skipped": len(summary.skipped)},
    )
    console.print(ingest_table(summary))


def _principal(app: App, address: str | None) -> Principal:
    return Principal.resolve(app.profile, address)


def _event(principal: Principal, text: str, session: str, channel: str = "cli") -> Event:
    return Event(
        channel=channel,
        principal=principal,
        text=text,
        session_id=session,
        provenance=Provenance.of(principal),
    )


async def _say(twin: Twin, event: Event, prefix: str = "") -> None:
    """Print the twin's answer, then what it did or queued; the owner's answer appears as the model writes
    it, anyone else's once guarded."""
    from persona.agent.runner import TwinReply
    from persona.cli.render import actions_lines

    streamed = ""
    with console.status("thinking…") as status:
        async for part in twin.stream(event):
            if isinstance(part, TwinReply):
                reply = part
                continue
            if not streamed:
                status.stop()
                console.print(prefix, end="")
            streamed += part
            console.print(part, end="", markup=False, highlight=False)
    if streamed:
        console.print()
        if reply.text.strip() != streamed.strip():  # the guard changed what the model wrote
            console.print("[yellow]corrected:[/] ", end="")
            console.print(reply.text, markup=False, highlight=False)
    else:
        console.print(prefix, end="")
        console.print(reply.text, markup=False, highlight=False)
    for line in actions_lines(reply.actions):
        console.print(line, highlight=False)


async def _ask_once(app: App, principal: Principal, text: str, session: str, as_json: bool) -> None:
    from persona.agent.runner import Twin

    async with Twin.open(app) as twin:
        event = _event(principal, text, session)
        if not as_json:
            await _say(twin, event)
            return
        reply = await twin.respond(event)
        print_json(reply.model_dump(mode="json", include={"text", "skill", "asks", "blocked", "actions"}))


def ask(
    ctx: typer.Context,
    message: Annotated[str, typer.Argument(help="What to ask the twin.")],
    as_address: Annotated[
        str | None,
        typer.Option("--as", help="Ask as this address (a colleague, a stranger); default: the owner."),
    ] = None,
    session: Annotated[str, typer.Option("--session", help="Continue a named conversation.")] = "",
    as_json: Annotated[bool, typer.Option("--json", help="Print the reply and its actions as JSON.")] = False,
) -> None:
    """Answer one message as the twin would answer that person, and do what it asks if that person may."""
    app = app_from(ctx)
    principal = _principal(app, as_address)
    asyncio.run(_ask_once(app, principal, message, session or uuid.uuid4().hex, as_json))


def chat(
    ctx: typer.Context,
    as_address: Annotated[
        str | None, typer.Option("--as", help="Chat as this address; default: the owner.")
    ] = None,
    session: Annotated[
        str, typer.Option("--session", help="Session name; reuse it to resume later.")
    ] = "cli",
) -> None:
    """An interactive conversation with the twin (resumes by --session). Empty line or Ctrl-D quits."""
    from persona.agent.runner import Twin

    app = app_from(ctx)
    principal = _principal(app, as_address)

    async def loop() -> None:
        async with Twin.open(app) as twin:
            console.print(
                f"[dim]chatting as {principal.name or principal.address or 'owner'} ({principal.role.value}); session {session}[/]"
            )
            while True:
                try:
                    text = (await asyncio.to_thread(console.input, "[bold]you>[/] ")).strip()
                except EOFError:
                    return
                if not text:
                    return
                await _say(twin, _event(principal, text, session), prefix="[bold cyan]twin>[/] ")

    asyncio.run(loop())


def audit(
    ctx: typer.Context,
    limit: Annotated[int, typer.Option("--limit", "-n", help="How many recent entries.")] = 30,
    verify: Annotated[
        bool, typer.Option("--verify", help="Check the hash chain: any edit or deletion shows.")
    ] = False,
    as_json: Annotated[
        bool, typer.Option("--json", help="Print the entries (or the check) as JSON.")
    ] = False,
    wide: Wide = False,
) -> None:
    """The audit log of every decision and action."""
    from persona.cli.render import Column, fitted_table

    app = app_from(ctx)
    if verify:
        check = app.store.verify_audit()
        if as_json:
            print_json(check)
        if not check.ok:
            raise PersonaError(f"audit log tampered: entry {check.first_bad_seq}: {check.problem}")
        if not as_json:
            console.print(f"audit log intact: {check.entries} entries, hash chain verified")
        return
    if as_json:
        print_json(app.store.audit_entries(limit))
        return
    columns = [
        Column("#", whole=True),
        Column("time (UTC)", whole=True),
        Column("kind"),
        Column("actor", wide_only=True),
        Column("subject"),
        Column("detail"),
    ]
    rows = []
    for e in app.store.audit_entries(limit):
        detail = e.detail.get("reason") or e.detail.get("receipt") or e.detail.get("why") or ""
        verdict = e.detail.get("verdict")
        rows.append(
            [
                str(e.seq),
                e.ts[:16].replace("T", " "),
                e.kind + (f" → {verdict}" if verdict else ""),
                e.actor,
                e.subject,
                str(detail),
            ]
        )
    console.print(fitted_table(columns, rows, wide))


def demo(
    ctx: typer.Context,
    data: Annotated[
        Path | None,
        typer.Option("--data", help="Demo data folder (default: configs/demo, shipped with the package)."),
    ] = None,
) -> None:
    """Run the offline demo: build the demo owner's memory, then let the twin answer (used by `make demo`)."""
    from persona.cli.demo import DEMO_NOW, find_demo_data, run_demo

    leaks = run_demo(
        App(ctx.obj["home"], ctx.obj["settings"], clock=lambda: DEMO_NOW), find_demo_data(data), console
    )
    if leaks:
        raise PersonaError(f"the demo saw {leaks} owner-only fact(s) reach a colleague")


def register(cli: typer.Typer) -> None:
    from persona.cli.doctor import doctor
    from persona.cli.model import model_cli

    cli.command()(init)
    cli.command()(ingest)
    cli.command()(ask)
    cli.command()(chat)
    cli.command()(audit)
    cli.command()(doctor)
    cli.add_typer(model_cli, name="model")
    cli.command()(demo)
