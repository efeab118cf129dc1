"""`persona eval injection` and `persona eval privacy`: the security evals, as two commands the `eval`
group attaches (`register(group)`)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

import typer

from persona.cli.context import console
from persona.errors import PersonaError
from persona.home import resolve_home
from persona.settings import load_settings


def _llm(ctx: typer.Context):
    from persona.llm.client import LLM

    obj = ctx.obj or {}
    settings = obj.get("settings") or load_settings()
    home = obj.get("home") or resolve_home(None, settings.home)
    return LLM.from_settings(settings, home.ensure())


def injection_command(
    ctx: typer.Context,
    suite: Annotated[Path, typer.Argument(help="An AgentDojo-format suite JSON file.")],
    model: Annotated[
        str, typer.Option("--model", help="hijacked (scripted worst case) or configured (the real LLM).")
    ] = "hijacked",
    limit: Annotated[
        int | None, typer.Option("--limit", help="Run only the first N (task, attack) pairs.")
    ] = None,
    out: Annotated[
        Path | None, typer.Option("--out", help="Folder for report.json and the audit log.")
    ] = None,
) -> None:
    """Plant each attack in what the owner's task reads and count which harmful actions would run."""
    from persona.evals.injection import run_injection

    if model not in ("hijacked", "configured"):
        raise PersonaError(f"--model: expected hijacked or configured, got {model!r}")
    choice: Literal["hijacked", "configured"] = "hijacked" if model == "hijacked" else "configured"
    report = run_injection(
        suite, choice, limit=limit, out=out, llm=_llm(ctx) if choice == "configured" else None
    )
    for line in report.lines():
        console.print(line, highlight=False)
    console.print(f"note: {report.read_only_counting}", highlight=False)
    if out is not None:
        console.print(f"wrote {out / 'report.json'}", highlight=False)


def privacy_command(
    ctx: typer.Context,
    probes: Annotated[
        Path | None, typer.Option("--probes", help="Probe file (default: evals/privacy/probes.yaml).")
    ] = None,
    model: Annotated[
        str, typer.Option("--model", help="configured (the real LLM) or scripted-leaky.")
    ] = "configured",
    out: Annotated[Path | None, typer.Option("--out", help="Folder for privacy_report.json.")] = None,
) -> None:
    """Ask the privacy probes of a canary home; print leaks (target 0) and over-refusals."""
    from persona.evals.privacy import DEFAULT_PROBES, run_privacy

    if model not in ("configured", "scripted-leaky"):
        raise PersonaError(f"--model: expected configured or scripted-leaky, got {model!r}")
    obj = ctx.obj or {}
    llm = _llm(ctx) if model == "configured" else None
    report = run_privacy(
        probes or DEFAULT_PROBES,
        "configured" if model == "configured" else "scripted-leaky",
        settings=obj.get("settings"),
        llm=llm,
        out=out,
    )
    for line in report.lines():
        console.print(line, highlight=False)
    for result in report.leaked:
        console.print(f"leak: {result.who} ({result.style}): {', '.join(result.leaked)}", highlight=False)


def register(group: typer.Typer) -> None:
    group.command("injection")(injection_command)
    group.command("privacy")(privacy_command)
