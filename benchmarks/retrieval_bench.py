"""Retrieval latency and recall@10 of the memory's vector index, and what the hybrid step adds.

    .venv/bin/python benchmarks/retrieval_bench.py [--sizes 10000,100000,1000000] [--queries 200] [--json out.json]

Vectors are synthetic (384 dimensions like all-MiniLM-L6-v2, drawn around 1,000 cluster centres so
neighbourhoods look like text embeddings rather than uniform noise) in a persistent Chroma collection
with the HNSW settings given. From `--hnswlib-from` vectors on (1M by default), the index is built with
hnswlib directly (the HNSW library Chroma is built on, same space and parameters, on both cores):
Chroma's local client builds on one thread, 134 s for 100k here under load, so about half an hour for 1M. Latency is one query of 10
results at a time, timed from the client; recall@10 compares its ids with an exact numpy search over
the same vectors. The hybrid part times `MemoryStore.search` on a store of synthetic texts with a
Zipf-distributed vocabulary: a query with keywords (vector query + keyword index + fusion) against one
made only of stopwords (the vector step alone), then the same with every vector held in memory, as the
server holds them (`held_*`; none above MemoryStore's limit of 10,000 items).
"""

from __future__ import annotations

import argparse
import hashlib
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import chromadb
import numpy as np
from chromadb.config import Settings as ChromaSettings
from pydantic import BaseModel

DIM = 384
CENTRES = 1000
_ADD = 5000  # below Chroma's max batch size
HNSWLIB_FROM = 1_000_000
VOCABULARY = 5000  # words of the synthetic texts: WORDS first (the most frequent), then generated ones
WORDS = [
    "budget",
    "review",
    "hiring",
    "roadmap",
    "cutover",
    "replica",
    "postgres",
    "incident",
    "rotation",
    "offsite",
    "lisbon",
    "vendor",
    "renewal",
    "contract",
    "invoice",
    "alert",
    "pager",
    "staging",
    "rollback",
    "migration",
    "capacity",
    "planning",
    "quarter",
    "estimate",
    "launch",
    "customer",
    "feedback",
    "security",
    "audit",
    "dashboard",
    "latency",
    "throughput",
    "schema",
    "index",
    "backup",
    "restore",
]


class SizeResult(BaseModel):
    chunks: int
    engine: str  # "chroma", or "hnswlib" (Chroma's HNSW library used directly)
    build_s: float
    reused: bool = (
        False  # the hnswlib index was loaded from the cache an earlier run built; build_s is the load
    )
    p50_ms: float
    p99_ms: float
    recall_at_10: float
    exact_p50_ms: float  # numpy brute force over the same vectors, for scale


class HybridResult(BaseModel):
    chunks: int
    vector_only_p50_ms: float
    hybrid_p50_ms: float
    hybrid_p99_ms: float
    held_load_s: float | None = None  # reading every vector into memory, once
    held_vector_only_p50_ms: float | None = None
    held_hybrid_p50_ms: float | None = None


class Results(BaseModel):
    dim: int = DIM
    hnsw: dict[str, int | str]
    sizes: list[SizeResult] = []
    hybrid: HybridResult | None = None


def clustered(n: int, seed: int, centres: np.ndarray) -> np.ndarray:
    """`n` unit vectors, each a random centre plus noise."""
    rng = np.random.default_rng(seed)
    picks = centres[rng.integers(0, len(centres), n)]
    vectors = picks + rng.normal(0, 0.6 / np.sqrt(DIM), (n, DIM)).astype(np.float32)
    return vectors / np.linalg.norm(vectors, axis=1, keepdims=True)


def centres(seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    c = rng.normal(0, 1, (CENTRES, DIM)).astype(np.float32)
    return c / np.linalg.norm(c, axis=1, keepdims=True)


def percentile(values: list[float], q: float) -> float:
    return float(np.percentile(values, q))


def _client(folder: Path) -> chromadb.ClientAPI:
    return chromadb.PersistentClient(path=str(folder), settings=ChromaSettings(anonymized_telemetry=False))


def measure_size(
    n: int, queries: int, hnsw: dict[str, int | str], folder: Path, hnswlib_from: int = HNSWLIB_FROM
) -> SizeResult:
    """Build an index of `n` vectors, then time `queries` single queries and check their recall."""
    cs = centres()
    stored = np.concatenate([clustered(min(_ADD, n - s), seed=s + 1, centres=cs) for s in range(0, n, _ADD)])
    probe = clustered(queries, seed=10**9, centres=cs)
    started = time.perf_counter()
    engine = "hnswlib" if n >= hnswlib_from else "chroma"
    reused = engine == "hnswlib" and index_cache(n, hnsw).exists()
    search = _hnswlib_index(stored, hnsw) if engine == "hnswlib" else _chroma_index(stored, hnsw, folder)
    search(probe[0])  # Chroma's first query waits for indexing
    build = time.perf_counter() - started

    latencies, exact_times, hits = [], [], 0
    for q in probe:
        t0 = time.perf_counter()
        found = search(q)
        latencies.append((time.perf_counter() - t0) * 1000)
        t0 = time.perf_counter()
        exact = np.argpartition(-(stored @ q), 10)[:10]
        exact_times.append((time.perf_counter() - t0) * 1000)
        hits += len({int(i) for i in exact} & found)
    return SizeResult(
        chunks=n,
        engine=engine,
        build_s=round(build, 1),
        reused=reused,
        p50_ms=round(statistics.median(latencies), 2),
        p99_ms=round(percentile(latencies, 99), 2),
        recall_at_10=round(hits / (10 * queries), 4),
        exact_p50_ms=round(statistics.median(exact_times), 2),
    )


def _chroma_index(
    stored: np.ndarray, hnsw: dict[str, int | str], folder: Path
) -> Callable[[np.ndarray], set[int]]:
    collection = _client(folder).create_collection(
        f"bench{len(stored)}",
        configuration={"hnsw": {"space": "cosine", **hnsw}},
        embedding_function=None,  # type: ignore[typeddict-item]
    )
    for s in range(0, len(stored), _ADD):
        collection.add(
            ids=[str(i) for i in range(s, min(s + _ADD, len(stored)))], embeddings=stored[s : s + _ADD]
        )
    return lambda q: {
        int(i) for i in collection.query(query_embeddings=[q], n_results=10, include=[])["ids"][0]
    }


def index_cache(n: int, hnsw: dict[str, int | str]) -> Path:
    """Where the hnswlib index of `n` vectors is kept between runs: the vectors are seeded, so an index
    built once serves every later run with the same parameters (1M take ~10 min to build on 2 cores)."""
    from persona.settings import default_cache_dir

    name = f"hnsw-v1-{n}-d{DIM}-c{CENTRES}-m{hnsw['max_neighbors']}-ef{hnsw['ef_construction']}.bin"
    return default_cache_dir() / "bench" / name


def _hnswlib_index(stored: np.ndarray, hnsw: dict[str, int | str]) -> Callable[[np.ndarray], set[int]]:
    import hnswlib  # chroma-hnswlib: the library under Chroma's index

    index = hnswlib.Index(space="cosine", dim=stored.shape[1])
    cache = index_cache(len(stored), hnsw)
    if cache.exists():
        index.load_index(str(cache), max_elements=len(stored))
    else:
        index.init_index(
            max_elements=len(stored),
            M=int(hnsw["max_neighbors"]),
            ef_construction=int(hnsw["ef_construction"]),
        )
        index.add_items(stored, np.arange(len(stored)), num_threads=-1)
        cache.parent.mkdir(parents=True, exist_ok=True)
        partial = cache.with_suffix(".partial")
        index.save_index(str(partial))
        partial.replace(cache)  # a run killed while saving leaves no half index behind
    index.set_ef(int(hnsw["ef_search"]))
    index.set_num_threads(1)  # one query at a time, like a search from the twin
    return lambda q: {int(i) for i in index.knn_query(q, k=10)[0][0]}


class SyntheticEmbedder:
    """Stands in for the Embedder: a stable pseudo-random clustered vector per text, at no model cost."""

    name = "synthetic-384"

    def __init__(self) -> None:
        self._centres = centres()

    def embed(self, texts: list[str]) -> list[list[float]]:
        seeds = [int.from_bytes(hashlib.sha256(t.encode()).digest()[:8], "little") for t in texts]
        return [clustered(1, seed=s, centres=self._centres)[0].tolist() for s in seeds]

    def embed_query(self, text: str) -> list[float]:
        return self.embed([text])[0]


def measure_hybrid(n: int, queries: int, folder: Path) -> HybridResult:
    """`MemoryStore.search` with and without keywords on a store of `n` synthetic texts."""
    from persona.home import Home
    from persona.memory.store import MemoryItem, MemoryStore
    from persona.profile import Audience
    from persona.settings import Settings

    rng = np.random.default_rng(7)
    vocabulary = np.array(WORDS + [f"term{j}" for j in range(VOCABULARY - len(WORDS))])

    def words(count: int) -> str:  # Zipf-distributed, like words in text: a few everywhere, most rare
        return " ".join(vocabulary[np.minimum(rng.zipf(1.2, count), VOCABULARY) - 1])

    store = MemoryStore(Home(folder).ensure(), Settings(chroma_url=None), SyntheticEmbedder())  # type: ignore[arg-type]
    for s in range(0, n, _ADD):
        store.add(
            [
                MemoryItem.make(f"{i} {words(40)}", "knowledge", Audience.TEAM)
                for i in range(s, min(s + _ADD, n))
            ]
        )

    def timed(make_query: Callable[[int], str]) -> list[float]:
        out = []
        for i in range(queries):
            t0 = time.perf_counter()
            store.search(make_query(i), [Audience.TEAM, Audience.PUBLIC], k=5)
            out.append((time.perf_counter() - t0) * 1000)
        return out

    def stopwords(i: int) -> str:
        return f"the and {'of ' * (i % 3)}"

    timed(lambda i: "the and of")  # warm-up
    vector = timed(stopwords)
    hybrid = timed(lambda i: f"{words(3)}?")
    result = HybridResult(
        chunks=n,
        vector_only_p50_ms=round(statistics.median(vector), 2),
        hybrid_p50_ms=round(statistics.median(hybrid), 2),
        hybrid_p99_ms=round(percentile(hybrid, 99), 2),
    )
    t0 = time.perf_counter()
    if store.keep_vectors_in_memory():
        result.held_load_s = round(time.perf_counter() - t0, 2)
        result.held_vector_only_p50_ms = round(statistics.median(timed(stopwords)), 2)
        result.held_hybrid_p50_ms = round(statistics.median(timed(lambda i: f"{words(3)}?")), 2)
    return result


def run(
    sizes: list[int],
    queries: int,
    hybrid_size: int,
    hnsw: dict[str, int | str],
    progress: Callable[[str], None] | None = None,
    hnswlib_from: int = HNSWLIB_FROM,
) -> Results:
    results = Results(hnsw=hnsw)
    with tempfile.TemporaryDirectory(prefix="persona-retrieval-") as tmp:
        for n in sizes:
            if progress:
                progress(f"retrieval: {n:,} vectors")
            results.sizes.append(measure_size(n, queries, hnsw, Path(tmp) / f"index{n}", hnswlib_from))
        if hybrid_size:
            if progress:
                progress(f"retrieval: hybrid search on {hybrid_size:,} texts")
            results.hybrid = measure_hybrid(hybrid_size, queries, Path(tmp) / "hybrid")
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,100000,1000000")
    parser.add_argument("--queries", type=int, default=200)
    parser.add_argument("--hybrid-size", type=int, default=10000)
    parser.add_argument("--ef-search", type=int, default=100)
    parser.add_argument("--max-neighbors", type=int, default=16)
    parser.add_argument("--ef-construction", type=int, default=100)
    parser.add_argument(
        "--hnswlib-from", type=int, default=HNSWLIB_FROM, help="index this many vectors and more with hnswlib"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    hnsw: dict[str, int | str] = {
        "ef_search": args.ef_search,
        "max_neighbors": args.max_neighbors,
        "ef_construction": args.ef_construction,
    }
    results = run(
        [int(s) for s in args.sizes.split(",")],
        args.queries,
        args.hybrid_size,
        hnsw,
        progress=print,
        hnswlib_from=args.hnswlib_from,
    )
    for size in results.sizes:
        print(size.model_dump_json())
    if results.hybrid:
        print(results.hybrid.model_dump_json())
    if args.json:
        args.json.write_text(results.model_dump_json(indent=2))


if __name__ == "__main__":
    main()
