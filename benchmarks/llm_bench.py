"""Speed of the local LLM server: prefill and generation tokens/s, and what a cached prompt prefix saves.

    python benchmarks/llm_bench.py [--url http://127.0.0.1:PORT/v1] [--json out.json]

Without --url it starts (then stops) a private server for the packaged model. Each prompt starts
with a fresh nonce, so nothing is served from a cache unless the measurement means it to be.
`anchor` is the hardware's own figure: the same GGUF through llama.cpp's `llama-bench` from the same
build, no HTTP, no chat template, no sampling; the server's rates are read as a share of it.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager, nullcontext
from pathlib import Path

import httpx
from pydantic import BaseModel

from persona.llm.model_files import prepare_model
from persona.llm.native import prepare_native
from persona.llm.server import LocalServer

WORDS = (
    "meeting project budget review draft schedule team report quarter customer launch design "
    "feedback deadline travel invoice contract agenda update release planning hiring roadmap"
).split()


class Timing(BaseModel):
    prompt_tokens: int
    completion_tokens: int
    seconds: float


class Results(BaseModel):
    prefill_tokens: int
    prefill_tok_s: float
    generated_tokens: int
    generation_tok_s: float
    prefix_tokens: int
    new_tokens: int
    cold_prefix_s: float
    cached_prefix_s: float
    other_prefix_cold_s: float | None  # None: `switch` was off
    first_prefix_again_s: float | None


class Anchor(BaseModel):
    prefill_tok_s: float
    generation_tok_s: float
    cpu_variant: str  # the CPU backend llama.cpp loaded (haswell, zen4 …)


def anchor(model: Path, prompt_tokens: int, gen_tokens: int, threads: int, repetitions: int = 3) -> Anchor:
    """Prefill and generation rates of `llama-bench` on `model`: the best this CPU does with this build."""
    bench = prepare_native().bench
    run = subprocess.run(
        [str(bench), "-m", str(model), "-p", str(prompt_tokens), "-n", str(gen_tokens),
         "-t", str(threads), "-r", str(repetitions), "-o", "json"],
        capture_output=True, text=True, check=True,
    )  # fmt: skip
    rows = json.loads(run.stdout)
    rate = {("prefill" if row["n_gen"] == 0 else "generation"): row["avg_ts"] for row in rows}
    variant = re.search(r"libggml-cpu-(\w+)\.so", run.stderr)  # "load_backend: loaded CPU backend from …"
    return Anchor(
        prefill_tok_s=rate["prefill"],
        generation_tok_s=rate["generation"],
        cpu_variant=variant[1] if variant else "?",
    )


def filler(tokens: int, seed: int) -> str:
    """Roughly `tokens` tokens of plausible office words (about one token per word here)."""
    rng = random.Random(seed)
    return " ".join(rng.choice(WORDS) for _ in range(tokens))


def chat(client: httpx.Client, messages: list[dict], max_tokens: int) -> Timing:
    start = time.perf_counter()
    response = client.post("/chat/completions", json={"messages": messages, "max_tokens": max_tokens})
    seconds = time.perf_counter() - start
    response.raise_for_status()
    usage = response.json()["usage"]
    return Timing(
        prompt_tokens=usage["prompt_tokens"], completion_tokens=usage["completion_tokens"], seconds=seconds
    )


def generation_rate(client: httpx.Client, max_tokens: int) -> tuple[int, float]:
    """Tokens/s between the first and the last streamed token (prefill excluded)."""
    body = {
        "messages": [{"role": "user", "content": f"{uuid.uuid4()} Write a long story about a lighthouse."}],
        "max_tokens": max_tokens,
        "stream": True,
    }
    stamps: list[float] = []
    with client.stream("POST", "/chat/completions", json=body) as response:
        response.raise_for_status()
        for line in response.iter_lines():
            if not line.startswith("data: ") or line == "data: [DONE]":
                continue
            if json.loads(line[6:])["choices"][0]["delta"].get("content"):
                stamps.append(time.perf_counter())  # the server streams one token per chunk
    return len(stamps), (len(stamps) - 1) / (stamps[-1] - stamps[0])


def run(
    url: str,
    prefix_tokens: int,
    new_tokens: int,
    gen_tokens: int,
    switch: bool = True,
    prompt_tokens: int = 500,
) -> Results:
    """Prefill rate on a `prompt_tokens` prompt, generation rate over `gen_tokens`, and a `prefix_tokens`
    system prompt cold then cached; `switch` also measures a second prefix, then the first again (is it
    kept in the RAM cache?)."""
    with httpx.Client(base_url=url, timeout=600) as client:
        prefill = chat(
            client, [{"role": "user", "content": f"{uuid.uuid4()} {filler(prompt_tokens, 1)}"}], max_tokens=1
        )
        generated, gen_rate = generation_rate(client, gen_tokens)

        def persona_prompt(prefix: str, seed: int) -> list[dict]:
            return [
                {"role": "system", "content": prefix},
                {"role": "user", "content": filler(new_tokens, seed)},
            ]

        prefix_a = f"{uuid.uuid4()} You write as the owner. {filler(prefix_tokens, 2)}"
        prefix_b = f"{uuid.uuid4()} You write as the owner. {filler(prefix_tokens, 3)}"
        cold = chat(client, persona_prompt(prefix_a, 10), max_tokens=1)
        cached = chat(client, persona_prompt(prefix_a, 11), max_tokens=1)
        other = chat(client, persona_prompt(prefix_b, 12), max_tokens=1) if switch else None
        again = chat(client, persona_prompt(prefix_a, 13), max_tokens=1) if switch else None
    return Results(
        prefill_tokens=prefill.prompt_tokens,
        prefill_tok_s=prefill.prompt_tokens / prefill.seconds,
        generated_tokens=generated,
        generation_tok_s=gen_rate,
        prefix_tokens=cold.prompt_tokens - new_tokens,
        new_tokens=new_tokens,
        cold_prefix_s=cold.seconds,
        cached_prefix_s=cached.seconds,
        other_prefix_cold_s=other.seconds if other else None,
        first_prefix_again_s=again.seconds if again else None,
    )


@contextmanager
def private_server(threads: int | None) -> Iterator[str]:
    """A server of our own: a shared one would interleave other clients' requests with ours."""
    with tempfile.TemporaryDirectory() as tmp:
        log = Path(tempfile.gettempdir()) / "persona-llm-bench.log"
        model = prepare_model(progress=True)
        with LocalServer(
            model, state_path=Path(tmp) / "server.json", log_path=log, threads=threads
        ) as server:
            yield server.base_url


def print_table(results: Results) -> None:
    r = results
    rows = [
        ("prefill", f"{r.prefill_tokens} tokens", f"{r.prefill_tok_s:.1f} tok/s"),
        ("generation", f"{r.generated_tokens} tokens", f"{r.generation_tok_s:.1f} tok/s"),
        ("prefix A, first request", f"{r.prefix_tokens}+{r.new_tokens} tokens", f"{r.cold_prefix_s:.2f} s"),
        ("prefix A, next request", "same prefix, new tail", f"{r.cached_prefix_s:.2f} s"),
    ]
    if r.other_prefix_cold_s is not None and r.first_prefix_again_s is not None:
        rows += [
            ("prefix B, first request", "another prefix", f"{r.other_prefix_cold_s:.2f} s"),
            ("prefix A again after B", "from the RAM cache", f"{r.first_prefix_again_s:.2f} s"),
        ]
    for name, size, value in rows:
        print(f"{name:<26} {size:<24} {value:>12}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="OpenAI-compatible base URL of a running llama.cpp server")
    parser.add_argument("--threads", type=int, help="threads for a server this script starts")
    parser.add_argument("--prefix-tokens", type=int, default=1000)
    parser.add_argument("--new-tokens", type=int, default=100)
    parser.add_argument("--gen-tokens", type=int, default=64)
    parser.add_argument("--json", type=Path, help="also write the numbers to this file")
    args = parser.parse_args()

    with private_server(args.threads) if args.url is None else nullcontext(args.url) as url:
        results = run(url, args.prefix_tokens, args.new_tokens, args.gen_tokens)
    print_table(results)
    if args.json:
        args.json.write_text(results.model_dump_json(indent=2))


if __name__ == "__main__":
    main()
