"""What the HTTP benchmarks share: the server in a process of its own on a free loopback port, and the
figures read about it.

A benchmark script starts itself again with `--serve` through `server_process`; that child builds its home
and app and hands them to `serve_on_loopback`, which writes the server's URL (and whatever else the client needs) to
the ready file once it listens. Scripts import this module as a sibling: they run as
`python benchmarks/<name>.py`, which puts this folder first on the path.
"""

from __future__ import annotations

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import uvicorn

# Nothing from the network, and no tokenizer threads beside uvicorn's loop.
OFFLINE = {"HF_HUB_OFFLINE": "1", "ANONYMIZED_TELEMETRY": "False", "TOKENIZERS_PARALLELISM": "false"}


def serve_on_loopback(config: uvicorn.Config, ready_file: Path, info: dict[str, Any]) -> None:
    """Run `config`'s app (port 0: a free one) until the process is killed; once it listens, `info` and
    its URL go to `ready_file`."""
    server = uvicorn.Server(config)

    async def run() -> None:
        task = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.05)
        port = server.servers[0].sockets[0].getsockname()[1]
        partial = ready_file.with_suffix(".partial")
        partial.write_text(json.dumps({"url": f"http://127.0.0.1:{port}", **info}))
        partial.replace(ready_file)  # the client reads it as soon as it exists: whole, never half written
        await task

    # uvicorn's own event loop choice, as `persona serve` (uvicorn.run) makes it: uvloop when installed
    with asyncio.Runner(loop_factory=config.get_loop_factory()) as runner:
        runner.run(run())


@contextmanager
def server_process(script: str, ready_file: Path, *args: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """`script --serve ... --ready-file ready_file` in its own process: its pid and what `serve` wrote,
    once it is ready. Killed on leaving: its home is thrown away, nothing is measured after."""
    command = [sys.executable, script, *args, "--ready-file", str(ready_file)]
    server = subprocess.Popen(command, env={**os.environ, **OFFLINE})
    try:
        while not ready_file.exists():
            if server.poll() is not None:
                raise SystemExit("the benchmark server exited before it was ready")
            time.sleep(0.2)
        yield server.pid, json.loads(ready_file.read_text())
    finally:
        server.kill()
        server.wait(30)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc), to tell work from waiting on a busy machine."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], q: float) -> float:
    """The `q` quantile (0.99 for p99) of `values`, one of them at least."""
    if len(values) == 1:
        return values[0]
    return statistics.quantiles(values, n=1000, method="inclusive")[int(q * 1000) - 1]
