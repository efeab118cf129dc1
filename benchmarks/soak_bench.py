"""Memory of the local LLM server over a long run: turns over alternating persona prefixes, RSS sampled.

    python benchmarks/soak_bench.py [--turns 500] [--prefixes 8] [--json out.json]

It starts a private server for the packaged model (the product's own command line) and sends chat
turns that cycle through `prefixes` system prompts of ~`prefix_tokens` tokens, each turn with a new
question, as several personas or sessions sharing one server do. After every turn it reads the
server's resident memory from /proc. The figure that matters is growth after warm-up: the first
`warmup` turns fill the prompt cache; afterwards a bounded server stays flat.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import httpx
from llm_bench import WORDS, filler  # run as a script from benchmarks/
from pydantic import BaseModel

from persona.llm.model_files import prepare_model
from persona.llm.server import LocalServer, ServerRecord


class Sample(BaseModel):
    turn: int
    seconds: float  # this turn's wall time
    rss_mb: float
    anon_mb: float


class SoakResults(BaseModel):
    turns: int
    prefixes: int
    prefix_tokens: int
    warmup: int
    samples: list[Sample]
    peak_mb: float  # the server's VmHWM at the end
    after_warmup_mb: float
    max_after_warmup_mb: float
    growth: float  # max after warm-up / RSS at the end of warm-up - 1
    turn_p50_s: float
    minutes: float


def memory_mb(pid: int) -> dict[str, float]:
    """VmRSS, RssAnon and VmHWM in MB of `pid` and its children (the watcher and its llama-server)."""
    fields = {"VmRSS": 0.0, "RssAnon": 0.0, "VmHWM": 0.0}
    children = Path(f"/proc/{pid}/task/{pid}/children").read_text().split()
    for process in [pid, *map(int, children)]:
        for line in Path(f"/proc/{process}/status").read_text().splitlines():
            key, _, value = line.partition(":")
            if key in fields:
                fields[key] += int(value.split()[0]) / 1024  # kB
    return fields


def persona_prefix(index: int, tokens: int) -> str:
    """A system prompt of about `tokens` tokens, different for every `index`."""
    return f"You are persona {index}. You write as the owner. Notes: {filler(tokens, seed=index)}"


def soak(
    url: str,
    pid: int,
    *,
    turns: int,
    prefixes: int,
    prefix_tokens: int,
    warmup: int,
    max_tokens: int = 8,
    minutes: float | None = None,
    progress: bool = False,
) -> SoakResults:
    """`turns` turns, or as many as fit in `minutes` (a busy machine), over `prefixes` system prompts."""
    systems = [persona_prefix(i, prefix_tokens) for i in range(prefixes)]
    samples: list[Sample] = []
    started = time.perf_counter()
    with httpx.Client(base_url=url, timeout=600) as client:
        for turn in range(turns):
            if minutes is not None and time.perf_counter() - started > 60 * minutes:
                break
            messages = [
                {"role": "system", "content": systems[turn % prefixes]},
                {"role": "user", "content": f"Question {turn}: what is due for {WORDS[turn % len(WORDS)]}?"},
            ]
            t0 = time.perf_counter()
            client.post(
                "/chat/completions", json={"messages": messages, "max_tokens": max_tokens}
            ).raise_for_status()
            memory = memory_mb(pid)
            samples.append(
                Sample(
                    turn=turn,
                    seconds=round(time.perf_counter() - t0, 3),
                    rss_mb=round(memory["VmRSS"]),
                    anon_mb=round(memory["RssAnon"]),
                )
            )
            if progress and (turn + 1) % 10 == 0:
                print(
                    f"turn {turn + 1}/{turns}: RSS {memory['VmRSS']:.0f} MB (anon {memory['RssAnon']:.0f}), "
                    f"{samples[-1].seconds:.2f} s",
                    flush=True,
                )
    after = samples[min(warmup, len(samples)) - 1].rss_mb
    later = max((s.rss_mb for s in samples[warmup:]), default=after)
    return SoakResults(
        turns=len(samples),
        prefixes=prefixes,
        prefix_tokens=prefix_tokens,
        warmup=warmup,
        samples=samples,
        peak_mb=round(memory_mb(pid)["VmHWM"]),
        after_warmup_mb=after,
        max_after_warmup_mb=later,
        growth=round(later / after - 1, 4),
        turn_p50_s=sorted(s.seconds for s in samples)[len(samples) // 2],
        minutes=round((time.perf_counter() - started) / 60, 1),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--turns", type=int, default=500)
    parser.add_argument("--prefixes", type=int, default=8)
    parser.add_argument("--prefix-tokens", type=int, default=1000)
    parser.add_argument("--warmup", type=int, help="turns before growth is counted (default: 3 rounds)")
    parser.add_argument("--minutes", type=float, help="stop sending turns after this long (a busy machine)")
    parser.add_argument("--threads", type=int, help="threads for the server")
    parser.add_argument("--json", type=Path, help="also write the numbers and every sample to this file")
    args = parser.parse_args()

    with (
        tempfile.TemporaryDirectory() as tmp,
        LocalServer(
            prepare_model(progress=True),
            state_path=Path(tmp) / "server.json",
            log_path=Path(tmp) / "server.log",
            threads=args.threads,
        ) as server,
    ):
        pid = ServerRecord.model_validate_json(server.state_path.read_text()).pid
        results = soak(
            server.base_url,
            pid,
            turns=args.turns,
            prefixes=args.prefixes,
            prefix_tokens=args.prefix_tokens,
            warmup=args.warmup or 3 * args.prefixes,
            minutes=args.minutes,
            progress=True,
        )
    print(
        f"{results.turns} turns over {results.prefixes} prefixes of ~{results.prefix_tokens} tokens "
        f"in {results.minutes} min (turn p50 {results.turn_p50_s:.2f} s)"
    )
    print(
        f"RSS after warm-up ({results.warmup} turns) {results.after_warmup_mb:.0f} MB, "
        f"largest later {results.max_after_warmup_mb:.0f} MB: growth {results.growth:+.1%}; "
        f"peak (VmHWM) {results.peak_mb:.0f} MB"
    )
    if args.json:
        args.json.write_text(results.model_dump_json(indent=2))


if __name__ == "__main__":
    main()
