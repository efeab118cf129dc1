"""What every command needs: the open App, consoles, and one place that turns errors into one line."""

from __future__ import annotations

import sys

import click
import typer
from rich.console import Console

from persona.app import App
from persona.errors import PersonaError

console = Console()
err_console = Console(stderr=True)


def print_json(value: object) -> None:
    """`--json` output: pydantic models (or lists of them) as JSON on stdout, for scripts: never wrapped
    or coloured, whatever the terminal."""
    from pydantic_core import to_json

    sys.stdout.write(to_json(value, indent=2).decode() + "\n")


def app_from(ctx: typer.Context) -> App:
    """The open home; its profile is validated now, so a broken or missing one is reported first."""
    app = App(ctx.obj["home"], ctx.obj["settings"])
    app.profile  # noqa: B018 - load and validate eagerly
    return app


def run_guarded(cli: typer.Typer) -> None:
    """Errors meant for users print as one red line with exit code 1; Ctrl-C exits 130."""
    try:
        cli(standalone_mode=False)
    except PersonaError as exc:
        err_console.print(f"[bold red]error:[/] {exc}", highlight=False)
        sys.exit(1)
    except KeyboardInterrupt:
        err_console.print("interrupted")
        sys.exit(130)
    except typer.Exit as exc:
        sys.exit(exc.exit_code)
    except typer.Abort:
        err_console.print("aborted")
        sys.exit(1)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
