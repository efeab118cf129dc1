"""What every command needs: the open App, consoles, and one place that turns errors into one line."""

from __future__ import annotations

import importlib
import sys
from datetime import date
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.markup import escape

from persona.app import App
from persona.errors import NotReady, PersonaError

console = Console()
err_console = Console(stderr=True)

# Options every list command takes.
AsJson = Annotated[bool, typer.Option("--json", help="Print them as JSON.")]
Wide = Annotated[bool, typer.Option("--wide", help="Show every column, however narrow the terminal.")]


def print_json(value: object) -> None:
    """`--json` output: pydantic models (or lists of them) as JSON on stdout, for scripts: never wrapped
    or coloured, whatever the terminal."""
    from pydantic_core import to_json

    sys.stdout.write(to_json(value, indent=2).decode() + "\n")


def parse_date(value: str, option: str = "--date") -> date:
    """A YYYY-MM-DD option value; a malformed one is a usage mistake (exit code 2) naming the option."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise typer.BadParameter(f"{value!r} is not a date like 2026-11-30", param_hint=option) from None


def app_from(ctx: typer.Context) -> App:
    """The open home; its profile is validated now, so a broken or missing one is reported first."""
    app = App(ctx.obj["home"], ctx.obj["settings"])
    app.profile  # noqa: B018 - load and validate eagerly
    return app


def require_extra(extra: str, *modules: str) -> None:
    """A tooling command's libraries come with an extra, not with the twin: name the one to install."""
    missing = []
    for module in modules:
        try:
            importlib.import_module(module)
        except ImportError:
            missing.append(module)
    if missing:
        raise NotReady(f"this command needs {', '.join(missing)}: pip install 'persona-twin[{extra}]'")


def _exit_with(message: str, code: int) -> NoReturn:
    """One red line on stderr, never wrapped (a script or a narrow terminal still sees one line), then exit."""
    err_console.print(
        f"[bold red]error:[/] {escape(' '.join(message.split()))}", highlight=False, soft_wrap=True
    )
    sys.exit(code)


def _usage_hint(exc: typer.TyperException) -> str:
    """Where to read how the command is used: usage errors carry the context of the command they are about."""
    ctx = getattr(exc, "ctx", None)
    return f" (see `{ctx.command_path} --help`)" if ctx is not None else ""


def run_guarded(cli: typer.Typer) -> None:
    """Errors meant for users print as one line: exit code 1, or 2 for a usage mistake; Ctrl-C exits 130.

    typer vendors its own click (typer._click, since 0.26) and raises that click's exceptions; since
    0.27.2 they all derive from the public typer.TyperException. The `click` package is not what typer raises.
    """
    try:
        code = cli(standalone_mode=False)
    except PersonaError as exc:
        _exit_with(str(exc), 1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except typer.TyperException as exc:
        message = exc.format_message()
        if not message:  # a group called without a command: typer has printed its help already
            sys.exit(exc.exit_code)
        _exit_with(message.rstrip(".") + (_usage_hint(exc) if exc.exit_code == 2 else ""), exc.exit_code)
    # Outside standalone mode typer answers a command's `raise typer.Exit(n)`, and Ctrl-C (as 130), by
    # returning the code: without this `persona doctor` exited 0 on failed checks, and so did Ctrl-C
    if isinstance(code, int) and code:
        if code == 130:
            err_console.print("interrupted")
        sys.exit(code)
