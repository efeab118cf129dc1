"""`persona eval ...`: run an evaluation set against the configured model and print the scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from persona.cli.context import app_from, console

eval_cli = typer.Typer(no_args_is_help=True)


@eval_cli.callback()
def _group() -> None:
    """Measure the twin on evaluation sets."""


@eval_cli.command("triage")
def eval_triage(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="Triage eval JSON (owner + emails with expected labels).")],
) -> None:
    """Triage accuracy, confusion matrix, and keyword coverage of drafted replies."""
    from persona.evals.triage import Label, run_triage_eval

    app = app_from(ctx)
    with console.status("triaging…"):
        report = run_triage_eval(app, path, progress=lambda r: console.print(
            f"{r.id:16} expected {r.expected.value:8} got {r.predicted.value if r.predicted else 'error':8} "
            f"{r.error or r.reason}", highlight=False))
    matrix = Table(title="confusion (rows: expected, columns: predicted)")
    matrix.add_column("")
    for label in Label:
        matrix.add_column(label.value, justify="right")
    for expected, row in report.confusion().items():
        matrix.add_row(expected.value, *(str(row[p]) for p in Label))
    console.print(matrix)
    answered = report.answered
    console.print(f"accuracy: {report.accuracy:.0%} ({sum(r.expected == r.predicted for r in answered)}"
                  f"/{len(answered)})")
    if len(answered) < len(report.results):
        console.print(f"[red]{len(report.results) - len(answered)} case(s) failed: the model did not answer[/]")
    covered = [c for r in report.results for c in r.covered]
    if covered:
        console.print(f"reply coverage (keyword check): {report.coverage:.0%} of {len(covered)} criteria")


def register(cli: typer.Typer) -> None:
    cli.add_typer(eval_cli, name="eval")
