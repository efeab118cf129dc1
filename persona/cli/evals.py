"""`persona eval ...`: run an evaluation set against the configured model and print the scores."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from persona.cli.context import app_from, console
from persona.errors import PersonaError
from persona.evals import DATA

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
        report = run_triage_eval(
            app,
            path,
            progress=lambda r: console.print(
                f"{r.id:16} expected {r.expected.value:8} got {r.predicted.value if r.predicted else 'error':8} "
                f"{r.error or r.reason}",
                highlight=False,
            ),
        )
    matrix = Table(title="confusion (rows: expected, columns: predicted)")
    matrix.add_column("")
    for label in Label:
        matrix.add_column(label.value, justify="right")
    for expected, row in report.confusion().items():
        matrix.add_row(expected.value, *(str(row[p]) for p in Label))
    console.print(matrix)
    answered = report.answered
    console.print(
        f"accuracy: {report.accuracy:.0%} ({sum(r.expected == r.predicted for r in answered)}"
        f"/{len(answered)})"
    )
    if len(answered) < len(report.results):
        console.print(
            f"[red]{len(report.results) - len(answered)} case(s) failed: the model did not answer[/]"
        )
    covered = [c for r in report.results for c in r.covered]
    if covered:
        console.print(f"reply coverage (keyword check): {report.coverage:.0%} of {len(covered)} criteria")


DEFAULT_SCHEDULING = DATA / "scheduling" / "dataset.json"


@eval_cli.command("scheduling")
def eval_scheduling(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="Scheduling dataset JSON (requests, calendars, correct slots).")
    ] = DEFAULT_SCHEDULING,
    rules_only: Annotated[
        bool, typer.Option("--rules-only", help="No LLM: what the rules alone get right.")
    ] = False,
) -> None:
    """Natural-language meeting requests against calendars: is the top proposed slot a correct one?"""
    from persona.evals.scheduling import run_scheduling_eval
    from persona.llm.client import LLM

    obj = ctx.obj
    llm = None if rules_only else LLM.from_settings(obj["settings"], obj["home"].ensure())
    with console.status("scheduling…") as status:
        report = run_scheduling_eval(
            path,
            llm,
            progress=lambda done, total, item: status.update(
                f"{done}/{total} {item.id}: {'ok' if item.correct else 'wrong'}"
            ),
        )
    table = Table("request", "", "expected", "got", "read by")
    for item in report.items:
        table.add_row(
            item.id,
            "[green]ok[/]" if item.correct else "[red]wrong[/]",
            item.expected,
            item.got,
            item.understood_by,
        )
    console.print(table)
    console.print(f"accuracy: {report.accuracy:.0%} ({report.correct}/{report.total})")


DEFAULT_DELEGATION = DATA / "delegation" / "cases.yaml"


@eval_cli.command("delegation")
def eval_delegation(
    ctx: typer.Context,
    path: Annotated[
        Path, typer.Argument(help="Delegation cases YAML (a home and its cases).")
    ] = DEFAULT_DELEGATION,
    only: Annotated[str | None, typer.Option("--only", help="Run one case id or one category.")] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the whole report as JSON here.")
    ] = None,
) -> None:
    """Requests to the twin (owner, colleagues, strangers), judged on what they did: effects and false claims."""
    from persona.evals.delegation import run_delegation_eval
    from persona.llm.client import LLM
    from persona.memory.embedding import Embedder

    obj = ctx.obj
    if not path.is_file():
        raise PersonaError(f"{path}: no such file")
    llm = LLM.from_settings(obj["settings"], obj["home"].ensure())

    def progress(n: int, total: int, r) -> None:
        mark = "[green]ok[/]   " if r.ok else "[red]wrong[/]"
        console.print(f"{n:3}/{total} {mark} {r.id}", highlight=False)

    report = run_delegation_eval(path, llm, Embedder(obj["settings"]), only=only, progress=progress)
    table = Table("case", "category", "effects", "reply", "false claims", "what went wrong")
    for r in report.results:
        table.add_row(
            r.id,
            r.category,
            "[green]ok[/]" if r.effects_ok else "[red]wrong[/]",
            "ok" if r.reply_ok else "[yellow]off[/]",
            str(len(r.false_claims)) if r.false_claims else "",
            r.error or "; ".join(r.problems + [f"claims: {c}" for c in r.false_claims]),
        )
    console.print(table)
    scores = Table("category", "cases", "effects correct", "replies correct", "false claims")
    for name, score in report.by_category.items():
        scores.add_row(
            name,
            str(score.cases),
            f"{score.effects_ok}/{score.cases}",
            f"{score.replies_ok}/{score.cases}",
            str(score.false_claims),
        )
    console.print(scores)
    console.print(
        f"effects correct: [bold]{report.effects_accuracy:.0%}[/] ({report.effects_ok}/{report.cases}); "
        f"replies correct: {report.replies_ok}/{report.cases}; false claims: [bold]{report.false_claims}[/]"
        + (f"; [red]{report.errors} errors[/]" if report.errors else "")
    )
    console.print(
        "chosen by: " + ", ".join(f"{k} {v}" for k, v in sorted(report.chosen_by.items())), highlight=False
    )
    if out is not None:
        out.write_text(report.model_dump_json(indent=2), encoding="utf-8")


@eval_cli.command("memory")
def eval_memory(
    ctx: typer.Context,
    path: Annotated[Path, typer.Argument(help="LoCoMo-format conversations JSON (e.g. locomo10.json).")],
    out: Annotated[
        Path | None, typer.Option("--out", help="Also write the whole report as JSON here.")
    ] = None,
    qa: Annotated[
        int,
        typer.Option(
            "--qa",
            min=0,
            help="Also ask the twin this many of the questions (with the "
            "configured model) and score its answers: token F1, date match.",
        ),
    ] = 0,
) -> None:
    """Long-conversation memory (LoCoMo): is the message holding each answer among what a turn is shown?"""
    from persona.evals.memory import run
    from persona.memory.embedding import Embedder

    if not path.is_file():
        raise PersonaError(f"{path}: no such file")
    settings = ctx.obj["settings"]
    with console.status("building a home from the conversations…") as status:
        report = run(
            path,
            settings.model_copy(update={"chroma_url": None}),
            Embedder(settings),
            tick=lambda done, total: status.update(f"asking {done}/{total}"),
            qa=qa,
        )
    table = Table(
        "category",
        "questions",
        "r@4",
        "r@10",
        "MRR@10",
        "dense r@4",
        "dense r@10",
        title=f"{report.messages} messages, {report.items} items",
    )
    for group, scores in report.product.items():
        dense = report.dense[group]
        table.add_row(
            group,
            str(scores.questions),
            f"{scores.recall_at_4:.3f}",
            f"{scores.recall_at_10:.3f}",
            f"{scores.mrr:.3f}",
            f"{dense.recall_at_4:.3f}",
            f"{dense.recall_at_10:.3f}",
        )
    console.print(table)
    console.print(f"ingest {report.ingest_seconds} s; search p50 {report.search_p50_ms} ms", highlight=False)
    if report.qa:
        answers = Table("category", "asked", "token F1", "dated", "date match", title="the twin's answers")
        for group, got in report.qa.items():
            answers.add_row(
                group,
                str(got.questions),
                f"{got.f1:.3f}",
                str(got.dated),
                "" if got.date_match is None else f"{got.date_match:.0%}",
            )
        console.print(answers)
    if out is not None:
        out.write_text(report.model_dump_json(indent=2), encoding="utf-8")


def register(cli: typer.Typer) -> None:
    from persona.cli import measure, security

    security.register(eval_cli)
    eval_cli.command("replies")(measure.replies_command)
    eval_cli.command("all")(measure.all_command)
    cli.command("bench")(measure.bench_command)
    cli.add_typer(eval_cli, name="eval")
