"""`persona bench`: the twin's speed against the machine's limits, one table and one JSON file.

It reuses the scripts under benchmarks/ (loaded by path: they are a source checkout's tools, not part
of the installed package): ingest_bench for the corpus generator, retrieval_bench for the index,
llm_bench for the server's speed against native llama-bench, chat_bench for the twin's own overhead.
`quick` keeps the whole run under five minutes on two cores by shrinking every sample; the full run
adds 1M vectors, indexed with hnswlib (Chroma's HNSW library) because Chroma's local client builds on
one thread, and keeps that index in the cache so a later `quick` run measures 1M too. Each stage's
wall time is reported with the figures.
"""

from __future__ import annotations

import asyncio
import importlib.util
import json
import os
import platform
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from types import ModuleType
from typing import Any

from pydantic import BaseModel

from persona.errors import NotReady
from persona.home import Home
from persona.settings import Settings

BENCHMARKS = Path(__file__).resolve().parents[1] / "benchmarks"
Step = Callable[[str], None]


class Figure(BaseModel):
    section: str
    name: str
    value: float | None
    unit: str
    target: str = ""
    meaning: str = ""

    @property
    def met(self) -> bool | None:
        """Whether the value meets a "<= x" / ">= x" target; None without one."""
        if not self.target or self.value is None:
            return None
        op, bound = self.target.split()[:2]
        return self.value <= float(bound) if op == "<=" else self.value >= float(bound)


class BenchReport(BaseModel):
    quick: bool
    machine: str
    seconds: float = 0.0
    figures: list[Figure] = []
    notes: list[str] = []
    raw: dict[str, Any] = {}


class Plan(BaseModel):
    """How much of each benchmark to run."""

    quick: bool
    embed_chunks: int
    mails: int
    retrieval_sizes: list[int]
    hnswlib_from: int  # sizes from this on are indexed with hnswlib, Chroma's HNSW library, on both cores
    queries: int
    hybrid_size: int
    scale_sizes: list[int]  # memories MemoryStore.search is timed on, through the product's own code
    scale_queries: int
    prompt_tokens: int  # the prompt the prefill rate is measured on
    prefix_tokens: int
    gen_tokens: int
    chat_sessions: int
    chat_turns: int
    chat_think: float  # mean pause between a session's turns, seconds

    @classmethod
    def of(cls, quick: bool) -> Plan:
        if quick:  # each figure on the smallest sample that still means something, the whole run < 5 min
            return cls(
                quick=True,
                embed_chunks=192,
                mails=30,
                retrieval_sizes=[10_000, 100_000],
                hnswlib_from=100_000,
                queries=50,
                hybrid_size=5_000,
                scale_sizes=[10_000],
                scale_queries=60,
                prompt_tokens=300,
                prefix_tokens=400,
                gen_tokens=32,
                chat_sessions=10,
                chat_turns=3,
                chat_think=2.0,
            )
        return cls(
            quick=False,
            embed_chunks=1024,
            mails=300,
            retrieval_sizes=[10_000, 100_000, 1_000_000],
            hnswlib_from=1_000_000,
            queries=300,
            hybrid_size=100_000,
            scale_sizes=[100_000, MILLION],
            scale_queries=300,
            prompt_tokens=500,
            prefix_tokens=1000,
            gen_tokens=128,
            chat_sessions=100,
            chat_turns=5,
            chat_think=10.0,
        )


def load_benchmark(name: str) -> ModuleType:
    path = BENCHMARKS / f"{name}.py"
    if not path.exists():
        raise NotReady(f"{path} is missing: `persona bench` runs from a source checkout of persona-twin")
    spec = importlib.util.spec_from_file_location(f"persona_benchmarks_{name}", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # pydantic models in the module resolve their annotations through it
    spec.loader.exec_module(module)
    return module


def run_bench(settings: Settings, *, quick: bool, step: Step = lambda _: None) -> BenchReport:
    plan = Plan.of(quick)
    report = BenchReport(
        quick=quick,
        machine=f"{platform.machine()}, {os.cpu_count()} CPUs, "
        f"load average {os.getloadavg()[0]:.1f} at start",
    )
    started = time.perf_counter()
    for name, section in (
        ("ingest", ingest_section),
        ("retrieval", retrieval_section),
        ("search at scale", scale_section),
        ("llm", llm_section),
        ("first answer", ask_section),
        ("twin overhead", overhead_section),
    ):
        t0 = time.perf_counter()
        section(report, settings, plan, step)
        _add(
            report,
            "wall time",
            name,
            time.perf_counter() - t0,
            "s",
            "",
            "this stage of the run, set-up included",
        )
    report.seconds = round(time.perf_counter() - started, 1)
    report.notes.append(
        f"load average {os.getloadavg()[0]:.1f} at the end: the CPUs are shared, numbers are honest "
        "measurements under that load, not the machine's best"
    )
    return report


def _add(
    report: BenchReport,
    section: str,
    name: str,
    value: float | None,
    unit: str,
    target: str = "",
    meaning: str = "",
) -> None:
    report.figures.append(
        Figure(
            section=section,
            name=name,
            value=None if value is None else round(value, 2),
            unit=unit,
            target=target,
            meaning=meaning,
        )
    )


def ingest_section(report: BenchReport, settings: Settings, plan: Plan, step: Step) -> None:
    from persona.memory.chunking import estimate_tokens
    from persona.memory.embedding import Embedder, SentenceTransformerEncoder
    from persona.memory.ingest import ingest
    from persona.memory.onnx_encoder import OnnxEncoder
    from persona.memory.store import MemoryStore
    from persona.profile import Audience, Owner, Profile

    bench = load_benchmark("ingest_bench")
    rng = random.Random(1)
    step("ingest: loading the embedding model")
    embedder = Embedder(settings)
    embedder.embed(["warm up"])
    chunks = [bench.chunk_of_about(90, rng) for _ in range(plan.embed_chunks)]
    step(f"ingest: embedding {len(chunks)} chunks")
    t0 = time.perf_counter()
    embedder.embed(chunks)
    seconds = [time.perf_counter() - t0]
    query_ms = []
    for i in range(20):
        t0 = time.perf_counter()
        embedder.embed_query(f"when is the cutover {i}?")
        query_ms.append((time.perf_counter() - t0) * 1000)
    with tempfile.TemporaryDirectory(prefix="persona-bench-") as tmp:
        step(f"ingest: {plan.mails} generated mails into a fresh store")
        bench.write_mails(Path(tmp) / "mail", plan.mails, rng)
        store = MemoryStore(
            Home(Path(tmp) / "home").ensure(), settings.model_copy(update={"chroma_url": None}), embedder
        )
        profile = Profile(owner=Owner(name="Dana", emails=["dana@example.com"]))
        t0 = time.perf_counter()
        summary = ingest([Path(tmp) / "mail"], store=store, profile=profile, audience=Audience.TEAM)
        ingest_seconds = time.perf_counter() - t0
    peak_rss = bench.peak_rss_mb()  # before the anchor loads torch
    step("ingest: raw sentence-transformers on the same chunks, alternating with the product's")
    anchor = SentenceTransformerEncoder(embedder.path)
    anchor.encode(["warm up"], embedder.batch_size)
    anchor_seconds = []
    for _ in range(2):  # the least disturbed run of each: the cores are shared
        t0 = time.perf_counter()
        anchor.encode(chunks, embedder.batch_size)
        anchor_seconds.append(time.perf_counter() - t0)
        t0 = time.perf_counter()
        embedder.embed(chunks)
        seconds.append(time.perf_counter() - t0)
    embed_rate, anchor_rate = len(chunks) / min(seconds), len(chunks) / min(anchor_seconds)
    tokens = statistics.fmean(estimate_tokens(c) for c in chunks)
    encoder = embedder.encoder
    runtime = (
        f"OpenVINO, {encoder.precision}"
        if isinstance(encoder, OnnxEncoder)
        else "sentence-transformers on torch"
    )
    _add(
        report,
        "ingest",
        "embedding throughput",
        embed_rate,
        "chunks/s",
        ">= 500",
        f"{embedder.name} ({runtime}) on {len(chunks)} chunks of ~{tokens:.0f} tokens",
    )
    _add(
        report,
        "ingest",
        "embedding / raw sentence-transformers",
        embed_rate / anchor_rate,
        "×",
        "",
        f"the anchor: the same chunks through SentenceTransformer.encode on torch, {anchor_rate:.0f} chunks/s",
    )
    _add(
        report,
        "ingest",
        "full ingest throughput",
        summary.chunks_added / ingest_seconds,
        "items/s",
        "",
        f"{summary.documents} .eml files parsed, chunked, embedded and stored in Chroma ({summary.chunks_added} items)",
    )
    _add(
        report,
        "ingest",
        "query embedding p50",
        statistics.median(query_ms),
        "ms",
        "",
        "one search query embedded (paid by every MemoryStore.search)",
    )
    _add(
        report,
        "ingest",
        "peak RSS",
        peak_rss,
        "MB",
        "",
        "this process's peak resident memory after ingest",
    )


MILLION = 1_000_000


def retrieval_section(report: BenchReport, settings: Settings, plan: Plan, step: Step) -> None:
    bench = load_benchmark("retrieval_bench")
    hnsw: dict[str, int | str] = {
        "ef_search": 100,
        "max_neighbors": 16,
        "ef_construction": 100,
    }  # Chroma's defaults
    sizes = plan.retrieval_sizes
    if MILLION not in sizes and bench.index_cache(MILLION, hnsw).exists():
        sizes = [
            *sizes,
            MILLION,
        ]  # a full run built and kept that index: loading and querying it takes seconds
    results = bench.run(
        sizes, plan.queries, plan.hybrid_size, hnsw, progress=step, hnswlib_from=plan.hnswlib_from
    )
    for size in results.sizes:
        target = "<= 10" if size.chunks >= MILLION else ""
        engine = (
            "Chroma HNSW" if size.engine == "chroma" else "hnswlib (Chroma's HNSW library, same parameters)"
        )
        built = (
            f"index of an earlier run, loaded in {size.build_s} s"
            if size.reused
            else f"built in {size.build_s} s"
        )
        _add(
            report,
            "retrieval",
            f"{size.chunks:,} vectors p50",
            size.p50_ms,
            "ms",
            target,
            f"{engine} top-10 query (p99 {size.p99_ms} ms; exact numpy {size.exact_p50_ms} ms; {built})",
        )
        _add(
            report,
            "retrieval",
            f"{size.chunks:,} vectors recall@10",
            size.recall_at_10,
            "",
            "",
            "share of the exact top 10 that HNSW returned",
        )
    if results.hybrid:
        h = results.hybrid
        _add(
            report,
            "retrieval",
            f"MemoryStore.search, vector step only ({h.chunks:,})",
            h.vector_only_p50_ms,
            "ms",
            "",
            "audience-scoped vector query for a 20-item pool with its texts (synthetic query vector)",
        )
        _add(
            report,
            "retrieval",
            f"MemoryStore.search, hybrid ({h.chunks:,})",
            h.hybrid_p50_ms,
            "ms",
            "",
            f"plus the keyword index (FTS5 BM25), keyword-only finds' vectors and fusion (p99 {h.hybrid_p99_ms} ms)",
        )
        if h.held_hybrid_p50_ms is not None:
            _add(
                report,
                "retrieval",
                f"MemoryStore.search, vectors held in memory ({h.chunks:,})",
                h.held_hybrid_p50_ms,
                "ms",
                "",
                "hybrid, as the server searches: exact nearest neighbours, no Chroma call (vector step only "
                f"{h.held_vector_only_p50_ms} ms; read into memory in {h.held_load_s} s)",
            )
    if MILLION not in sizes:
        report.notes.append(
            "--quick measures 1M vectors once `persona bench` has built and kept that index "
            "(about 10 min on 2 cores, once); it stops at 100,000 until then"
        )
    report.raw["retrieval"] = results.model_dump()


def scale_section(report: BenchReport, settings: Settings, plan: Plan, step: Step) -> None:
    """`MemoryStore.search` as a chat turn runs it, on a memory built through `MemoryStore.add` (kept in
    the cache dir), on embedded Chroma and on a Chroma server, beside raw hnswlib on the same vectors."""
    results = load_benchmark("search_scale").run(
        plan.scale_sizes, ["embedded", "server"], plan.scale_queries, step
    )
    for r in results:
        where = f"{r.items:,} items, {r.backend} Chroma"
        big = r.items >= MILLION
        for name, value, ratio, target in (
            ("p50", r.p50_ms, r.p50_ratio, "<= 10" if big else ""),
            ("p99", r.p99_ms, r.p99_ratio, "<= 50" if big else ""),
        ):
            _add(
                report,
                "search at scale",
                f"MemoryStore.search {name} ({where})",
                value,
                "ms",
                target,
                f"{ratio:.0f}x raw hnswlib's {name} in this run; a chat turn's search_kinds for an owner, a "
                f"colleague and a stranger in turn; CPU {r.cpu_ms} ms a search; load {r.load}",
            )
        _add(
            report,
            "search at scale",
            f"writing through MemoryStore.add ({r.items:,} items)",
            r.written / r.build_s if r.written else None,
            "items/s",
            "",
            f"{r.written:,} items in {r.build_s} s" + (", by an earlier run" if r.reused else ""),
        )
        _add(
            report,
            "search at scale",
            f"RSS ({where})",
            r.rss_mb,
            "MB",
            "",
            f"this process after the searches, vectors held: {r.holding} (read in {r.hold_s} s)"
            + (f"; the Chroma server {r.server_rss_mb} MB" if r.server_rss_mb is not None else ""),
        )
    report.raw["search_scale"] = [r.model_dump() for r in results]


def llm_section(report: BenchReport, settings: Settings, plan: Plan, step: Step) -> None:
    import httpx

    from persona.errors import PersonaError
    from persona.llm.model_files import prepare_model
    from persona.llm.server import LocalServer

    bench = load_benchmark("llm_bench")
    step("llm: starting a private llama.cpp server")
    try:
        with (
            tempfile.TemporaryDirectory(prefix="persona-bench-llm-") as tmp,
            LocalServer(
                prepare_model(progress=False),
                state_path=Path(tmp) / "server.json",
                log_path=Path(tmp) / "server.log",
                threads=settings.llm.threads,
            ) as server,
        ):  # private: no other process queues requests on it or stops it mid-measurement
            step("llm: the hardware anchor (llama-bench, same build and model)")
            threads = server.threads
            anchor = bench.anchor(server.model, plan.prompt_tokens, plan.gen_tokens, threads)
            step("llm: the server's prefill and generation")
            raw = bench.run(
                server.base_url,
                plan.prefix_tokens,
                100,
                plan.gen_tokens,
                switch=not plan.quick,
                prompt_tokens=plan.prompt_tokens,
            )
            step("llm: chat turns through the twin")
            try:
                turns = asyncio.run(_twin_turns(settings, server.base_url))
            except NotReady as exc:
                turns = {}
                report.notes.append(f"twin chat turn figures missing: {exc}")
    except (PersonaError, httpx.HTTPError) as exc:
        report.notes.append(f"LLM figures missing: {exc}")
        return
    _add(
        report,
        "llm",
        "prefill",
        raw.prefill_tok_s,
        "tok/s",
        "",
        f"{raw.prefill_tokens}-token prompt, nothing cached",
    )
    _add(
        report,
        "llm",
        "generation",
        raw.generation_tok_s,
        "tok/s",
        "",
        f"{raw.generated_tokens} streamed tokens",
    )
    for name, ours, native, target in (
        ("prefill", raw.prefill_tok_s, anchor.prefill_tok_s, ">= 0.9"),
        ("generation", raw.generation_tok_s, anchor.generation_tok_s, ">= 0.95"),
    ):
        _add(
            report,
            "llm",
            f"{name} / native llama-bench",
            ours / native,
            "×",
            target,
            f"native {native:.1f} tok/s on {threads} threads, CPU variant {anchor.cpu_variant}",
        )
    _add(
        report,
        "llm",
        "prompt with a cached prefix",
        raw.cached_prefix_s,
        "s",
        "",
        f"{raw.prefix_tokens}-token prefix seen before + {raw.new_tokens} new tokens (cold: {raw.cold_prefix_s:.2f} s)",
    )
    for name, turn in turns.items():
        ideal = (
            max(turn["new_tokens"], 1) / raw.prefill_tok_s + turn["completion_tokens"] / raw.generation_tok_s
        )
        _add(
            report,
            "llm",
            f"twin chat turn, persona prefix {name}",
            turn["seconds"],
            "s",
            "",
            f"an answer from memory in {turn['calls']:.0f} model call(s): {turn['new_tokens']:.0f} prompt tokens "
            f"read + {turn['cached_tokens']:.0f} reused from the server's cache, {turn['completion_tokens']:.0f} "
            "generated",
        )
        _add(
            report,
            "llm",
            f"turn / raw cost of its new tokens ({name})",
            turn["seconds"] / ideal,
            "×",
            "<= 1.2" if name == "cached" else "",
            f"raw cost {ideal:.2f} s at the prefill and generation rates above",
        )
    report.raw["llm"] = {"raw": raw.model_dump(), "anchor": anchor.model_dump(), "turns": turns}


TWIN_QUESTIONS = (
    ("cold", "What should I focus on this week?"),
    ("cached", "What did Priya say about the holiday cover?"),
)


async def _twin_turns(settings: Settings, url: str) -> dict[str, dict[str, float]]:
    """Two owner questions answered from memory through Twin.respond, on a home with the demo's profile
    and an empty memory: the first with its persona prefix new to the server, the second on the same
    prefix. A nonce in the owner's role, in the prompt's first line, makes the prefix new to the server's
    cache. Tokens are the server's own counters over every call of the turn: prompt tokens read anew,
    prompt tokens reused from its cache, tokens generated."""
    from persona.agent.runner import Twin
    from persona.agent.understand import RECALL
    from persona.app import App
    from persona.cli.demo import DEFAULT_DATA
    from persona.events import Event, Principal, Provenance
    from persona.llm.client import LLM
    from persona.llm.serve import read_counters
    from persona.profile import load_profile, save_profile

    base = url.removesuffix("/v1")

    def counters() -> dict[str, float]:
        values = read_counters(base)
        if values is None:
            raise NotReady(f"the LLM server at {base} did not say what it did")
        return values

    with tempfile.TemporaryDirectory(prefix="persona-bench-twin-") as tmp:
        home = Home(Path(tmp)).ensure()
        profile = load_profile(DEFAULT_DATA / "persona.yaml")
        profile.owner.role = f"{profile.owner.role}, bench run {uuid.uuid4().hex[:12]}"
        save_profile(profile, home.profile_path)
        endpoint = LLM.from_settings(
            settings.model_copy(update={"llm": settings.llm.model_copy(update={"base_url": url})}), home
        )
        llm = LLM(endpoint.chat_model, local=True, url=url)  # our own llama.cpp server: local request shapes
        app = App(home, settings.model_copy(update={"chroma_url": None}), llm=llm)
        owner = Principal.owner(app.profile)
        turns: dict[str, dict[str, float]] = {}
        async with Twin.open(app) as twin:
            for name, question in TWIN_QUESTIONS:
                before, calls = counters(), sum(u.calls for u in app.llm.usage.values())
                t0 = time.perf_counter()
                reply = await twin.respond(
                    Event(
                        channel="cli",
                        principal=owner,
                        text=question,
                        session_id=name,
                        provenance=Provenance.of(owner),
                    )
                )
                seconds = time.perf_counter() - t0
                if reply.skill != RECALL:
                    raise NotReady(
                        f"{question!r} was not answered from memory but by {reply.skill or 'no skill'}"
                    )
                after = counters()
                turns[name] = {
                    "seconds": seconds,
                    "calls": sum(u.calls for u in app.llm.usage.values()) - calls,
                    **{
                        key: after[counter] - before[counter]
                        for key, counter in (
                            ("new_tokens", "prompt_tokens_total"),
                            ("cached_tokens", "prompt_tokens_cached_total"),
                            ("completion_tokens", "tokens_predicted_total"),
                        )
                    },
                }
    return turns


def ask_section(report: BenchReport, settings: Settings, plan: Plan, step: Step) -> None:
    """Two `persona ask` processes on a home with the demo's profile and writing: the first with no model
    server running, the second finding the one the first left up."""
    from io import StringIO

    from rich.console import Console

    from persona.app import App
    from persona.cli.demo import DEFAULT_DATA, set_up_home

    bench = load_benchmark("ask_bench")
    with tempfile.TemporaryDirectory(prefix="persona-bench-ask-") as tmp:
        step("first answer: a home with the demo's profile and writing")
        home = Home(Path(tmp) / "home").ensure()
        set_up_home(
            App(home, settings.model_copy(update={"chroma_url": None})),
            DEFAULT_DATA,
            Console(file=StringIO()),
        )
        step("first answer: `persona ask` twice, the model server cold then warm")
        try:
            asks = bench.run(home.root, asks=2)
        except RuntimeError as exc:
            report.notes.append(f"first-answer figures missing: {exc}")
            return
    for name, result, first_target, total_target in (
        ("cold", asks[0], "", ""),
        ("warm", asks[1], "<= 3", "<= 8"),
    ):
        words = len(result.answer.split())
        _add(
            report,
            "first answer",
            f"persona ask, {name}: first token",
            result.first_token_s,
            "s",
            first_target,
            "a new process: start-up, the embedder, memory search, the persona prefix"
            + (", the model server started" if name == "cold" else ", the server the first ask left up"),
        )
        _add(
            report,
            "first answer",
            f"persona ask, {name}: whole answer",
            result.total_s,
            "s",
            total_target,
            f"until the process exits ({words} words)",
        )
    report.raw["ask"] = [a.model_dump() for a in asks]


def overhead_section(report: BenchReport, settings: Settings, plan: Plan, step: Step) -> None:
    script = BENCHMARKS / "chat_bench.py"
    if not script.exists():
        raise NotReady(f"{script} is missing: `persona bench` runs from a source checkout of persona-twin")
    step(
        f"twin overhead: {plan.chat_sessions} chat sessions × {plan.chat_turns} turns, scripted LLM, "
        f"{plan.chat_think:g} s between turns"
    )
    with tempfile.TemporaryDirectory(prefix="persona-bench-chat-") as tmp:
        out = Path(tmp) / "chat.json"
        done = subprocess.run(
            [
                sys.executable,
                str(script),
                "--sessions",
                str(plan.chat_sessions),
                "--turns",
                str(plan.chat_turns),
                "--think",
                str(plan.chat_think),
                "--latency",
                "0.05",
                "--json",
                str(out),
            ],
            capture_output=True,
            text=True,
            timeout=600,
            check=False,
        )
        if done.returncode != 0 or not out.exists():
            report.notes.append(
                f"chat_bench failed: {done.stderr.strip().splitlines()[-1:] or done.returncode}"
            )
            return
        chat = json.loads(out.read_text())
    _add(
        report,
        "twin",
        "overhead per turn p50",
        chat["overhead_p50_ms"],
        "ms",
        "<= 20",
        f"HTTP chat turn minus the scripted LLM's 50 ms, {chat['sessions']} concurrent sessions",
    )
    _add(
        report,
        "twin",
        "overhead per turn p99",
        chat["overhead_p99_ms"],
        "ms",
        "<= 100",
        "same, 99th percentile",
    )
    _add(
        report,
        "twin",
        "time inside the twin per turn",
        chat["twin_turn_mean_ms"] - chat["llm_latency_ms"],
        "ms",
        "",
        "retrieval, prompt, guard, gate and audit (server-side mean, LLM latency removed)",
    )
    report.raw["chat"] = chat
