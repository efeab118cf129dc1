"""What bringing embedded Chroma up to date costs a search while another process ingests (a benchmark).

    .venv/bin/python benchmarks/catch_up_bench.py [--batches 40]

A second process adds batches of 256 items (384 dims) with a pause between them, as `persona ingest`
does while it embeds; this one makes, every 0.1 s, the write a search makes after a change
(MemoryStore._caught_up: the delete of an id no item has) and prints how long it took: the write waits
for the other process's transaction, and Chroma holds the GIL meanwhile, so the whole process waits.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

import chromadb
import numpy as np
from chromadb.config import Settings

WRITER = """
import sys, time
import chromadb, numpy as np
from chromadb.config import Settings
col = chromadb.PersistentClient(path=sys.argv[1], settings=Settings(anonymized_telemetry=False)).get_collection("memory")
rng = np.random.default_rng(1)
for b in range(int(sys.argv[2])):
    col.add(ids=[f"x{b}-{i}" for i in range(256)], embeddings=rng.random((256, 384)).tolist(),
            documents=["a chunk of text"] * 256, metadatas=[{"kind": "knowledge", "source": "s"}] * 256)
    time.sleep(0.2)
"""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batches", type=int, default=40)
    batches = parser.parse_args().batches
    with tempfile.TemporaryDirectory() as path:
        client = chromadb.PersistentClient(path=path, settings=Settings(anonymized_telemetry=False))
        collection = client.get_or_create_collection(
            "memory", configuration={"hnsw": {"space": "cosine"}}, embedding_function=None
        )
        collection.add(ids=["a"], embeddings=[np.ones(384).tolist()], documents=["a"])
        collection.query(query_embeddings=[np.ones(384).tolist()], n_results=1)  # the index is loaded
        writer = subprocess.Popen([sys.executable, "-c", WRITER, path, str(batches)])
        waits = []
        while writer.poll() is None:
            started = time.perf_counter()
            collection.delete(ids=["no-such-item"])
            waits.append(time.perf_counter() - started)
            time.sleep(0.1)
    waits.sort()
    print(
        f"{len(waits)} catch-up writes during {batches} batches of 256: p50 {waits[len(waits) // 2] * 1000:.0f} ms, "
        f"p90 {waits[int(len(waits) * 0.9)] * 1000:.0f} ms, max {waits[-1] * 1000:.0f} ms"
    )


if __name__ == "__main__":
    main()
