"""The `persona` command: a thin shell over persona.app. Each command group lives in its own module."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from persona.cli.context import run_guarded
from persona.cli.quiet import library_output
from persona.home import resolve_home
from persona.settings import load_settings

cli = typer.Typer(
    name="persona",
    help="A local-first assistant twin that acts for you, in your voice, within your rules.",
    no_args_is_help=True,
    rich_markup_mode="rich",
    pretty_exceptions_enable=False,
)


@cli.callback()
def _root(
    ctx: typer.Context,
    home: Annotated[
        Path | None,
        typer.Option(
            "--home",
            help="Data directory of the twin (default: $PERSONA_HOME, else the per-user data dir).",
            show_default=False,
        ),
    ] = None,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Also show libraries' warnings, log lines and progress bars."),
    ] = False,
) -> None:
    ctx.with_resource(library_output(verbose))
    settings = load_settings()
    ctx.obj = {"home": resolve_home(home, settings.home), "settings": settings}


def _register() -> None:
    from persona.cli import core

    core.register(cli)
    for name in ("approvals", "inbox", "calendar", "messages", "memory", "evals", "serve", "scheduler"):
        try:
            module = __import__(f"persona.cli.{name}", fromlist=["register"])
        except ModuleNotFoundError as exc:
            if exc.name != f"persona.cli.{name}":
                raise
            continue
        module.register(cli)


def main() -> None:
    _register()
    run_guarded(cli)
