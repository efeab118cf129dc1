"""How long `persona ask` makes a person wait: first streamed token and whole answer, cold then warm.

    python benchmarks/ask_bench.py --home DIR [--asks 2] [--json out.json]

Each ask is a fresh `persona --home DIR ask …` process, as a person types it. The model server runs
from a private cache dir (the real model files linked in), so the first ask starts it cold, and the
next ones find it as the first left it; it is stopped at the end. DIR is copied first, never changed.
"""

from __future__ import annotations

import argparse
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pydantic import BaseModel, ValidationError

from persona.llm.server import ServerRecord
from persona.settings import default_cache_dir

QUESTIONS = (
    "In two sentences: what should I focus on this week?",
    "In two sentences: what is the most urgent thing in my inbox?",
    "In two sentences: who have I been mailing most lately?",
)


class Ask(BaseModel):
    question: str
    first_token_s: float | None  # None: nothing was streamed (an answer printed whole, e.g. from a skill)
    total_s: float
    answer: str


@contextmanager
def private_cache() -> Iterator[Path]:
    """A cache dir holding the user's model, embedding and llama.cpp files by link, and its own server record;
    the server started in it is stopped on the way out."""
    shared = default_cache_dir()
    with tempfile.TemporaryDirectory(prefix="persona-ask-bench-") as tmp:
        cache = Path(tmp) / "persona-twin"
        cache.mkdir()
        for name in ("models", "embedding", "openvino", "llama.cpp"):
            if (shared / name).exists():
                (cache / name).symlink_to(shared / name)
        try:
            yield Path(tmp)
        finally:
            try:
                os.kill(
                    ServerRecord.model_validate_json((cache / "server.json").read_text()).pid, signal.SIGINT
                )
            except (FileNotFoundError, ValidationError, ProcessLookupError):
                pass


def ask(home: Path, question: str, cache_root: Path) -> Ask:
    """One `persona ask` process; the time of the first byte of its answer on stdout and of its exit."""
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_root), "PYTHONUNBUFFERED": "1"}
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "persona", "--home", str(home), "ask", question],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        env=env,
    )
    assert process.stdout is not None
    first = process.stdout.read(1)
    first_s = time.perf_counter() - started
    rest = process.stdout.read()
    process.wait()
    total_s = time.perf_counter() - started
    if process.returncode != 0:
        raise RuntimeError(f"persona ask exited with {process.returncode}")
    return Ask(
        question=question,
        first_token_s=round(first_s, 2) if first else None,
        total_s=round(total_s, 2),
        answer=(first + rest).decode(errors="replace").strip(),
    )


def run(home: Path, asks: int = 2) -> list[Ask]:
    """`asks` questions on a copy of `home`, the first one with no model server running."""
    with tempfile.TemporaryDirectory(prefix="persona-ask-home-") as tmp, private_cache() as cache_root:
        copy = Path(tmp) / "home"
        shutil.copytree(home, copy, symlinks=True)
        return [ask(copy, QUESTIONS[i % len(QUESTIONS)], cache_root) for i in range(asks)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--home", type=Path, required=True, help="a persona home, e.g. one `persona demo` built"
    )
    parser.add_argument("--asks", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the timings to this file")
    args = parser.parse_args()

    results = run(args.home, args.asks)
    for n, result in enumerate(results):
        state = "cold" if n == 0 else "warm"
        first = f"{result.first_token_s:.2f} s" if result.first_token_s is not None else "-"
        print(
            f"ask {n + 1} ({state}): first token {first}, whole answer {result.total_s:.2f} s "
            f"({len(result.answer.split())} words)"
        )
    if args.json:
        args.json.write_text("[" + ",".join(r.model_dump_json() for r in results) + "]")


if __name__ == "__main__":
    main()
