"""Embedding and ingest throughput on a generated corpus (a benchmark, not a test).

    .venv/bin/python benchmarks/ingest_bench.py [--chunks 512] [--mails 300]

Prints chunks/s of the embedder alone on ~90-token chunks, then messages/s and chunks/s of a full
ingest of generated .eml files into a fresh embedded store, and the peak RSS of the process.
"""

from __future__ import annotations

import argparse
import random
import resource
import sys
import tempfile
import time
from email.message import EmailMessage
from pathlib import Path

from persona.home import Home
from persona.memory.chunking import estimate_tokens
from persona.memory.embedding import Embedder
from persona.memory.ingest import ingest
from persona.memory.store import MemoryStore
from persona.profile import Audience, Owner, Profile
from persona.settings import Settings

VOCABULARY = (
    "the quarterly budget review moved to friday because finance needs more time to reconcile numbers "
    "from last sprint and the hiring plan for platform team so please send your estimates early we will "
    "discuss launch risks customer feedback contract renewal security audit roadmap priorities and the "
    "offsite agenda in our next sync let me know if anything blocks you or if the timeline slips again"
).split()


def sentence(rng: random.Random) -> str:
    words = [rng.choice(VOCABULARY) for _ in range(rng.randint(8, 16))]
    return " ".join(words).capitalize() + "."


def chunk_of_about(tokens: int, rng: random.Random) -> str:
    text = ""
    while estimate_tokens(text) < tokens:
        text = f"{text} {sentence(rng)}".strip()
    return text


def write_mails(folder: Path, count: int, rng: random.Random) -> None:
    folder.mkdir(parents=True)
    for i in range(count):
        msg = EmailMessage()
        msg["From"] = "dana@example.com" if i % 3 == 0 else f"person{i % 7}@example.com"
        msg["To"] = "team@example.com"
        msg["Subject"] = f"update {i}"
        msg["Message-ID"] = f"<bench{i}@example.com>"
        msg.set_content(
            "Hi all,\n\n" + "\n\n".join(chunk_of_about(60, rng) for _ in range(rng.randint(1, 4)))
        )
        (folder / f"{i:05d}.eml").write_bytes(msg.as_bytes())


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # kilobytes on Linux


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=512)
    parser.add_argument("--mails", type=int, default=300)
    args = parser.parse_args()
    rng = random.Random(1)
    settings = Settings(embedding_model=None, chroma_url=None)
    embedder = Embedder(settings)

    started = time.perf_counter()
    embedder.embed(["warm up"])
    print(f"model load: {time.perf_counter() - started:.1f} s")

    chunks = [chunk_of_about(90, rng) for _ in range(args.chunks)]
    mean_tokens = sum(estimate_tokens(c) for c in chunks) / len(chunks)
    pieces = sum(embedder.count_tokens(c) for c in chunks) / len(chunks)
    started = time.perf_counter()
    embedder.embed(chunks)
    seconds = time.perf_counter() - started
    print(
        f"embed: {len(chunks)} chunks (~{mean_tokens:.0f} est. tokens, {pieces:.0f} word pieces) "
        f"in {seconds:.1f} s = {len(chunks) / seconds:.0f} chunks/s"
    )

    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "mail"
        write_mails(folder, args.mails, rng)
        store = MemoryStore(Home(Path(tmp) / "home").ensure(), settings, embedder)
        profile = Profile(owner=Owner(name="Dana", emails=["dana@example.com"]))
        started = time.perf_counter()
        summary = ingest([folder], store=store, profile=profile, audience=Audience.TEAM)
        seconds = time.perf_counter() - started
        print(
            f"ingest: {summary.documents} mails -> {summary.chunks_added} items in {seconds:.1f} s = "
            f"{summary.documents / seconds:.0f} mails/s, {summary.chunks_added / seconds:.0f} items/s"
        )
        started = time.perf_counter()
        again = ingest([folder], store=store, profile=profile, audience=Audience.TEAM)
        print(f"re-ingest: {again.chunks_added} added in {time.perf_counter() - started:.1f} s")
    print(f"peak RSS: {peak_rss_mb():.0f} MB")


if __name__ == "__main__":
    sys.exit(main())
