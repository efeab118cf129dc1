"""`MemoryStore.search` at 100k and 1M items, through the product's own code, beside raw hnswlib.

    .venv/bin/python benchmarks/search_scale.py [--sizes 100000,1000000] [--queries 300] [--backends embedded,server]

A home's memory of N mail-like items is written through `MemoryStore.add`, batch after batch as an ingest
writes it; only the embedder is replaced, by one that hands back vectors drawn beforehand (the same
clustered vectors as benchmarks/retrieval_bench.py, so the raw anchor is its hnswlib index over the very
same vectors, and an embedding hour is not needed). Texts have a Zipf-distributed vocabulary (a few words
in most items, most words rare), authors, recipients, dates, subjects and threads; a third of the items are
the owner's only, half the team's, the rest public; most are knowledge, some exemplars and situations.

Each search is a chat turn's: `search_kinds` with the audiences and kinds `memory_wanted` gives an owner, a
colleague and a stranger in turn, on a store that holds its vectors as the server does
(`keep_vectors_in_memory`). Embedded Chroma and a Chroma server (`chroma run` on loopback) are measured in
the same run as the anchor: one hnswlib top-10 query on one thread. A built store is kept in the cache dir
with the time it took to build, and a later run reuses it.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import numpy as np
from pydantic import BaseModel

from persona.bench import load_benchmark
from persona.home import Home
from persona.memory.store import ItemKind, MemoryItem, MemoryStore
from persona.profile import Audience
from persona.settings import Settings, default_cache_dir

retrieval = load_benchmark("retrieval_bench")
loopback = load_benchmark("loopback")
DIM = retrieval.DIM
HNSW: dict[str, int | str] = {
    "ef_search": 100,
    "max_neighbors": 16,
    "ef_construction": 100,
}  # Chroma's defaults
BATCH = 5000  # items an ingest hands `add` at once (it stores them 256 at a time); retrieval_bench's seeds
LAYOUT = "v1"  # of the cached stores: a change to what is built gives it a new folder
PEOPLE = [
    f"{first}.{last}@example.com" for first in ("ada", "sam", "lena", "raj", "mei") for last in "abcdefgh"
]
KINDS: list[ItemKind] = ["knowledge", "exemplar", "situation"]
# who asks, the audiences they may see and the kinds a chat turn wants for them (persona.agent.graph)
ASKERS: list[tuple[str, list[Audience], dict[str, int]]] = [
    ("owner", list(Audience), {"knowledge": 4, "exemplar": 0}),
    ("colleague", [Audience.TEAM, Audience.PUBLIC], {"knowledge": 4, "exemplar": 2}),
    ("stranger", [Audience.PUBLIC], {"knowledge": 4, "exemplar": 2}),
]


class ScaleResult(BaseModel):
    items: int
    backend: str  # "embedded" or "server"
    build_s: float  # writing items through MemoryStore.add (an earlier run's, when reused)
    written: int  # items that build wrote (the rest came from a smaller memory's copy, or a cut-off run)
    reused: bool
    hold_s: float  # keep_vectors_in_memory, as a server starts
    holding: bool  # whether the store answers vector queries itself (else Chroma's index does)
    p50_ms: float
    p99_ms: float
    by_asker_p50_ms: dict[str, float]
    cpu_ms: float  # CPU time a search costs, on every core, the Chroma server's included: what load does not change
    anchor_p50_ms: float  # raw hnswlib top-10 on the same vectors, this run
    anchor_p99_ms: float
    rss_mb: float  # this process after the searches
    server_rss_mb: float | None = None  # the Chroma server's, when there is one
    load: str  # load averages (1, 5, 15 min) while measuring

    @property
    def p50_ratio(self) -> float:
        return self.p50_ms / self.anchor_p50_ms

    @property
    def p99_ratio(self) -> float:
        return self.p99_ms / self.anchor_p99_ms


class Vectors:
    """Stands in for the Embedder: a text's vector is the one drawn for it before it was written."""

    name = "synthetic-clustered-384"
    dim = DIM

    def __init__(self) -> None:
        self.drawn: dict[str, list[float]] = {}

    def count_tokens(self, text: str) -> int:
        return len(text.split())

    def embed(self, texts: list[str]) -> list[list[float]]:
        return [self.drawn[t] for t in texts]  # a text with no vector drawn is a bench bug: KeyError

    def embed_query(self, text: str) -> list[float]:
        return self.drawn[text]


class Words:
    """Zipf-distributed words over retrieval_bench's vocabulary: a few in most texts, most rare."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)
        self.vocabulary = np.array(
            retrieval.WORDS + [f"term{j}" for j in range(retrieval.VOCABULARY - len(retrieval.WORDS))]
        )

    def __call__(self, count: int) -> str:
        picks = np.minimum(self.rng.zipf(1.2, count), len(self.vocabulary)) - 1
        return " ".join(self.vocabulary[picks])


def batch(start: int, n: int) -> tuple[list[MemoryItem], np.ndarray]:
    """Items `start`.. of a memory of `n` and their vectors (retrieval_bench's, seeded alike)."""
    size = min(BATCH, n - start)
    vectors = retrieval.clustered(size, seed=start + 1, centres=retrieval.centres())
    words, rng = Words(start), np.random.default_rng(start)
    audiences = rng.choice(3, size, p=[0.3, 0.5, 0.2])
    kinds = rng.choice(3, size, p=[0.8, 0.15, 0.05])
    items = []
    for j in range(size):
        i = start + j
        day = 1_300_000_000 + int(rng.integers(0, 10 * 365 * 86400))
        items.append(
            MemoryItem.make(
                f"{words(int(rng.integers(20, 80)))} ({i})",
                KINDS[kinds[j]],
                list(Audience)[audiences[j]],
                author=PEOPLE[int(rng.integers(len(PEOPLE)))],
                recipients=PEOPLE[int(rng.integers(len(PEOPLE)))],
                subject=words(4),
                date=time.strftime("%Y-%m-%dT%H:%M:%S+00:00", time.gmtime(day)),
                date_epoch=day,
                thread_id=f"t{i // 7}",
                doc_id=f"m{i // 3}",
                source=f"mail/{i // 1000}.mbox",
                doc_kind="mail",
            )
        )
    return items, vectors


def build(store: MemoryStore, vectors: Vectors, n: int, progress: Callable[[str], None]) -> tuple[float, int]:
    """Write the memory's `n` items through `MemoryStore.add`: seconds it took, and items written (a
    build cut off goes on where it stopped, and a larger memory from a smaller one's copy)."""
    started = time.perf_counter()
    first = store.count() // BATCH * BATCH  # `add` skips the items of the last batch it stored
    for start in range(first, n, BATCH):
        items, drawn = batch(start, n)
        vectors.drawn = {item.text: v.tolist() for item, v in zip(items, drawn)}
        store.add(items)
        if (start + BATCH) % 50_000 == 0:
            rate = (start + BATCH - first) / (time.perf_counter() - started)
            progress(f"  {start + BATCH:,} items, {rate:.0f}/s, RSS {rss_mb():.0f} MB")
    vectors.drawn = {}
    return time.perf_counter() - started, n - first


def questions(count: int) -> dict[str, list[float]]:
    """Question texts with their vectors: retrieval_bench's probe vectors, a few words each."""
    probes = retrieval.clustered(count, seed=10**9, centres=retrieval.centres())
    words = Words(10**9)
    return {f"what about {words(3)} {i}?": v.tolist() for i, v in enumerate(probes)}


def anchor(n: int, probes: list[list[float]]) -> list[float]:
    """Raw hnswlib: a top-10 query's ms on retrieval_bench's index of the same `n` vectors."""
    if retrieval.index_cache(n, HNSW).exists():
        stored = np.empty((n, DIM), dtype=np.float32)  # only its shape is read when the index is loaded
    else:
        stored = np.concatenate(
            [
                retrieval.clustered(min(BATCH, n - s), seed=s + 1, centres=retrieval.centres())
                for s in range(0, n, BATCH)
            ]
        )
    search = retrieval._hnswlib_index(stored, HNSW)
    del stored
    return timed(lambda q: search(np.asarray(q, dtype=np.float32)), probes)


def timed(call: Callable[[Any], object], args: list[Any]) -> list[float]:
    for arg in args[:20]:  # warm-up
        call(arg)
    out = []
    for arg in args:
        t0 = time.perf_counter()
        call(arg)
        out.append((time.perf_counter() - t0) * 1000)
    return out


def rss_mb(pid: int | str = "self") -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return 0.0


@contextmanager
def chroma_server(path: Path) -> Iterator[tuple[str, int]]:
    """`chroma run` (the binary the chromadb wheel ships) on a free loopback port: its URL and pid."""
    binary = shutil.which("chroma", path=str(Path(sys.executable).parent))
    if not binary:
        raise SystemExit("no `chroma` binary next to the interpreter: chromadb is not installed here")
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    proc = subprocess.Popen(
        [binary, "run", "--path", str(path), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 600  # a large memory is loaded before it answers
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("the Chroma server did not start")
            time.sleep(0.2)
        yield url, proc.pid
    finally:
        proc.terminate()
        proc.wait(timeout=60)


def cached(n: int) -> Path:
    return default_cache_dir() / "bench" / f"search-scale-{LAYOUT}-{n}"


@contextmanager
def opened_store(folder: Path, backend: str) -> Iterator[tuple[MemoryStore, int | None]]:
    """The store in `folder` on embedded Chroma, or on a Chroma server serving the same Chroma folder
    (one at a time): both backends search the very same memory."""
    home = Home(folder / "home").ensure()
    if backend == "embedded":
        yield MemoryStore(home, Settings(chroma_url=None), Vectors()), None  # type: ignore[arg-type]
        return
    with chroma_server(home.chroma_dir) as (url, pid):
        yield MemoryStore(home, Settings(chroma_url=url), Vectors()), pid  # type: ignore[arg-type]


def prepared(n: int, progress: Callable[[str], None]) -> tuple[bool, float, int]:
    """The cached store of `n` items, built now (on embedded Chroma) unless an earlier run built it:
    (reused, seconds the build took, items it wrote)."""
    folder = cached(n)
    marker = folder / "built.json"
    if not marker.exists():
        with opened_store(folder, "embedded") as (store, _):
            progress(f"search scale: writing {n:,} items through MemoryStore.add (embedded Chroma)")
            seconds, written = build(store, store.embedder, n, progress)  # type: ignore[arg-type]
        marker.write_text(json.dumps({"build_s": seconds, "written": written}))
        return False, seconds, written
    built = json.loads(marker.read_text())
    return True, float(built["build_s"]), int(built.get("written", n))


def measure(n: int, backend: str, queries: int, folder: Path, progress: Callable[[str], None]) -> ScaleResult:
    asked = questions(queries)
    probes = list(asked.values())
    progress(f"search scale: raw hnswlib on {n:,} vectors")
    raw = anchor(n, probes)
    reused, build_s, written = prepared(n, progress)
    with opened_store(folder, backend) as (store, server_pid):
        vectors: Vectors = store.embedder  # type: ignore[assignment]
        t0 = time.perf_counter()
        holding = store.keep_vectors_in_memory()
        hold_s = time.perf_counter() - t0
        vectors.drawn = asked
        progress(f"search scale: {queries} chat-turn searches on {n:,} items ({backend})")
        turns = [(text, ASKERS[i % len(ASKERS)]) for i, text in enumerate(asked)]
        cpu = time.process_time() + (loopback.cpu_seconds(server_pid) if server_pid else 0.0)
        took = timed(lambda turn: store.search_kinds(turn[0], turn[1][1], turn[1][2]), turns)  # type: ignore[arg-type]
        cpu = time.process_time() + (loopback.cpu_seconds(server_pid) if server_pid else 0.0) - cpu
        by_asker = {
            name: round(statistics.median(took[i :: len(ASKERS)]), 2) for i, (name, _, _) in enumerate(ASKERS)
        }
        server_rss = rss_mb(server_pid) if server_pid else None
    return ScaleResult(
        items=n,
        backend=backend,
        build_s=round(build_s, 1),
        written=written,
        reused=reused,
        hold_s=round(hold_s, 2),
        holding=holding,
        p50_ms=round(statistics.median(took), 2),
        cpu_ms=round(cpu * 1000 / (len(turns) + min(20, len(turns))), 2),
        p99_ms=round(loopback.percentile(took, 0.99), 2),
        by_asker_p50_ms=by_asker,
        anchor_p50_ms=round(statistics.median(raw), 3),
        anchor_p99_ms=round(loopback.percentile(raw, 0.99), 3),
        rss_mb=round(rss_mb(), 0),
        server_rss_mb=None if server_rss is None else round(server_rss, 0),
        load=" ".join(f"{x:.1f}" for x in os.getloadavg()),
    )


def run(
    sizes: list[int], backends: list[str], queries: int, progress: Callable[[str], None] = print
) -> list[ScaleResult]:
    return [measure(n, b, queries, cached(n), progress) for n in sizes for b in backends]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--backends", default="embedded,server")
    parser.add_argument("--queries", type=int, default=300)
    parser.add_argument(
        "--build-only", action="store_true", help="build and cache the stores, measure nothing"
    )
    args = parser.parse_args()
    if args.build_only:
        for n in [int(s) for s in args.sizes.split(",")]:
            prepared(n, print)
        return
    for result in run([int(s) for s in args.sizes.split(",")], args.backends.split(","), args.queries):
        print(result.model_dump_json())


if __name__ == "__main__":
    main()
