"""The local model server process: llama.cpp's own `llama-server`, in bounded memory, ending itself when
unused.

    python -m persona.llm.serve --model M.gguf --port P --users FILE [--idle-timeout S] ...

Started by `LocalServer`; a person never needs to run it by hand. This process watches `llama-server`,
its child: it reads the server's counters to know when it was last used, stops it once nobody uses it
(`persona.llm.lifetime`), and takes it along however it ends itself (the child gets SIGKILL from the
kernel when this process dies, kill -9 included).
"""

from __future__ import annotations

import argparse
import ctypes
import os
import signal
import subprocess
import sys
import types
from pathlib import Path

import httpx

from persona.llm.lifetime import Activity, Usage, Watchdog

PR_SET_PDEATHSIG = 1  # linux/prctl.h
# A prompt is read 512 tokens at a time (llama.cpp's micro-batch default); not swept on two cores yet.
BATCH = 512
UBATCH = 512


def llama_server_command(args: argparse.Namespace) -> list[str]:
    return [
        str(args.program),
        "--model", str(args.model),
        "--alias", str(args.model),  # /v1/models names the file, which is how a starter recognises it
        "--host", args.host,
        "--port", str(args.port),
        "--ctx-size", str(args.n_ctx),
        "--threads", str(args.threads),
        "--threads-batch", str(args.threads),
        "--flash-attn", "on",  # llama-bench on two cores: prefill 90 vs 32 tok/s, generation 11.9 vs 0.8
        "--batch-size", str(BATCH),
        "--ubatch-size", str(UBATCH),
        # One slot: requests queue, as on any two-core machine they would anyway; each gets the whole context.
        "--parallel", "1",
        # Prompt states of recent requests kept in RAM, reused by a request that shares their prefix (the
        # persona and the rules): bounded in MiB, so the process stays flat however many prefixes come.
        "--cache-ram", str(args.cache_mib),
        "--metrics",  # the counters the idle watchdog reads
        "--no-webui",
    ]  # fmt: skip


def read_counters(base: str) -> dict[str, float] | None:
    """The server's own counters (its `llamacpp:` metrics, without the prefix), or None while it cannot
    say (starting, or too busy to answer)."""
    try:
        text = httpx.get(f"{base}/metrics", timeout=5.0).text
    except httpx.HTTPError:
        return None
    values = {}
    for line in text.splitlines():
        name, _, value = line.partition(" ")
        if name.startswith("llamacpp:"):
            try:
                values[name.removeprefix("llamacpp:")] = float(value)
            except ValueError:
                continue
    return values


def read_usage(base: str) -> Usage | None:
    """Whether the server is busy and how much it has decoded, or None while it cannot say."""
    values = read_counters(base) or {}
    try:
        waiting = values["requests_processing"] + values["requests_deferred"]
        return Usage(busy=waiting > 0, decoded=values["n_decode_total"])
    except KeyError:
        return None


def _die_with_parent() -> None:
    """In the child before exec: the kernel kills it when this process is gone, however it went."""
    libc = ctypes.CDLL(None, use_errno=True)
    libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--program", type=Path, required=True, help="llama-server (persona.llm.native)")
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--n-ctx", type=int, default=4096)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--cache-mib", type=int, default=512, help="RAM kept for reusable prompt states")
    parser.add_argument("--users", type=Path, required=True, help="the users file (see persona.llm.lifetime)")
    parser.add_argument("--idle-timeout", type=float, default=900.0, help="seconds unused before exiting")
    args = parser.parse_args(argv)

    # no other thread exists yet (the watchdog starts below), so the fork before exec is safe
    child = subprocess.Popen(llama_server_command(args), preexec_fn=_die_with_parent)  # noqa: PLW1509

    def stop(code: int) -> None:
        child.terminate()
        try:
            child.wait(timeout=10)
        except subprocess.TimeoutExpired:
            child.kill()
        os._exit(code)  # also from the watchdog's thread, where sys.exit would end only the thread

    def on_signal(signum: int, _frame: types.FrameType | None) -> None:
        stop(0)

    signal.signal(signal.SIGINT, on_signal)
    signal.signal(signal.SIGTERM, on_signal)
    base = f"http://{args.host}:{args.port}"
    Watchdog(Activity(lambda: read_usage(base)), args.users, args.idle_timeout, exit=stop).start()
    sys.exit(child.wait())


if __name__ == "__main__":
    main()
