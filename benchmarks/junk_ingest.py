"""`persona ingest` of a 50 MB random file under each name ingest reads (a benchmark, not a test).

    .venv/bin/python benchmarks/junk_ingest.py [--mb 50]

Each file is ingested by its own `persona ingest` process into a fresh home; printed per name: the
wall time and the peak RSS of that process (CLI start-up and the embedding model's load included),
and the reason the summary gives. Issue #24's bar: skipped or read in ≤ 10 s and ≤ 300 MB, with a reason.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

NAMES = ["junk.eml", "junk.mbox", "junk.txt", "junk.md", "junk.json"]


def measured(args: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stdout of one process."""
    started = time.perf_counter()
    process = subprocess.Popen(args, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = process.stdout.read() if process.stdout else ""
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    if process.returncode:
        raise SystemExit(f"{' '.join(args)} exited {process.returncode}:\n{out}")
    return time.perf_counter() - started, usage.ru_maxrss / 1024, out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mb", type=int, default=50)
    size = parser.parse_args().mb
    persona = [sys.executable, "-m", "persona"]
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        print(f"{'file':<10} {'seconds':>8} {'peak RSS':>9}  summary")
        for name in NAMES:
            home, folder = root / f"home-{name}", root / f"in-{name}"
            folder.mkdir()
            with (folder / name).open("wb") as handle:
                for _ in range(size):
                    handle.write(os.urandom(1024 * 1024))
            env = {**os.environ, "PERSONA_HOME": str(home), "COLUMNS": "200"}
            measured([*persona, "init", "--name", "Junk Test", "--email", "junk@example.com"], env)
            seconds, peak, out = measured([*persona, "ingest", str(folder / name)], env)
            reason = next(
                (line.split(":", 1)[1].strip() for line in out.splitlines() if name + ":" in line),
                "no reason printed",
            )
            print(f"{name:<10} {seconds:>8.1f} {peak:>6.0f} MB  {reason}", flush=True)


if __name__ == "__main__":
    main()
