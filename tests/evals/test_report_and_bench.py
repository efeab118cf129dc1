"""`persona eval all` report files and plots; the retrieval benchmark's recall against exact search."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import pytest

from persona.app import App
from persona.bench import Figure, Plan, load_benchmark
from persona.evals.report import Sources, run_all
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.scripted import ScriptedChatModel
from persona.settings import Settings

# LoCoMo's format, two short sessions: the answer to each question is one message (its evidence)
LOCOMO = [
    {
        "sample_id": "c1",
        "qa": [
            {
                "question": "When did Ana go to the pottery class?",
                "answer": "6 May 2023",
                "evidence": ["D1:2"],
                "category": 2,
            },
            {
                "question": "What pet did Ben adopt?",
                "answer": "a greyhound",
                "evidence": ["D2:3"],
                "category": 4,
            },
            {"question": "Is Ana happy?", "answer": "", "evidence": [], "category": 5},
        ],
        "conversation": {
            "speaker_a": "Ana",
            "speaker_b": "Ben",
            "session_1_date_time": "1:56 pm on 7 May, 2023",
            "session_1": [
                {"speaker": "Ben", "dia_id": "D1:1", "text": "Hi Ana! What have you been up to?"},
                {"speaker": "Ana", "dia_id": "D1:2", "text": "I went to a pottery class yesterday."},
                {"speaker": "Ben", "dia_id": "D1:3", "text": "Nice, how was it?"},
            ],
            "session_2_date_time": "10:00 am on 20 June, 2023",
            "session_2": [
                {"speaker": "Ana", "dia_id": "D2:1", "text": "Any news, Ben?"},
                {"speaker": "Ben", "dia_id": "D2:2", "text": "Big news! We have a new member of the family."},
                {
                    "speaker": "Ben",
                    "dia_id": "D2:3",
                    "text": "We adopted a rescue greyhound called Pip.",
                    "blip_caption": "a photo of a grey dog on a sofa",
                },
            ],
        },
    }
]


def test_eval_all_writes_tables_plots_and_reports_skips(home: Home, embedder, tmp_path: Path) -> None:
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text(
        json.dumps(
            {
                "id": "p1",
                "incoming": {
                    "from": "Sam Okafor <sam@northwind.example>",
                    "subject": "Thursday?",
                    "body": "Can we meet Thursday at 10?",
                },
                "reply": {"body": "Hi Sam,\n\nYes, Thursday works.\n\nThanks,\nDana"},
            }
        )
        + "\n"
    )
    accept, decline = ('{"reason": "r", "decision": "accept"}', '{"reason": "r", "decision": "decline"}')
    model = ScriptedChatModel(
        replies=[
            accept,
            "Hi Sam,\n\nYes, Thursday works for me.\n\nThanks,\nDana",
            decline,
            "Hello, I am unable to attend on Thursday.",
        ]
    )
    app = App(home, Settings(chroma_url=None), llm=LLM(model, local=True))
    app.__dict__["embedder"] = embedder
    started: list[str] = []
    out = tmp_path / "report"
    conversations = tmp_path / "locomo.json"
    conversations.write_text(json.dumps(LOCOMO))
    report = run_all(
        app,
        Sources(scheduling=None, probes=tmp_path / "missing.yaml", pairs=pairs, conversations=conversations),
        out,
        started=lambda name: started.append(name) or (lambda _d, _t: None),
    )

    status = {r.name: r.status for r in report.evals}
    assert started == ["triage", "replies", "scheduling", "injection", "privacy", "memory"]
    assert status == {
        "triage": "skipped",
        "replies": "ok",
        "scheduling": "skipped",
        "injection": "skipped",
        "privacy": "skipped",
        "memory": "ok",
    }
    memory = next(r for r in report.evals if r.name == "memory")
    assert memory.headline["questions"] == 2 and memory.headline["recall@4"] == 1.0
    replies = next(r for r in report.evals if r.name == "replies")
    assert replies.headline["twin agreement"] == 1.0 and replies.headline["baseline agreement"] == 0.0
    assert len(report.plots) >= 2 and "replies.png" in report.plots
    for plot in report.plots:
        assert (out / plot).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    md = (out / "report.md").read_text()
    assert (
        "| replies | ok |" in md
        and "no dataset: pass --triage PATH" in md
        and "![replies](replies.png)" in md
    )
    assert json.loads((out / "report.json").read_text())["evals"][1]["name"] == "replies"
    assert (out / "replies" / "drafts.jsonl").exists()


def test_a_failing_eval_is_reported_and_the_others_still_run(home: Home, tmp_path: Path) -> None:
    bad = tmp_path / "pairs.jsonl"
    bad.write_text("not json\n")
    app = App(home, Settings(chroma_url=None), llm=LLM(ScriptedChatModel(), local=True))
    report = run_all(
        app, Sources(scheduling=None, probes=None, pairs=bad, conversations=None), tmp_path / "r"
    )
    failed = next(r for r in report.evals if r.name == "replies")
    assert failed.status == "failed" and "pairs.jsonl:1" in failed.note
    assert (tmp_path / "r" / "report.md").exists() and len(report.plots) >= 2


def test_figure_targets() -> None:
    assert Figure(section="s", name="n", value=8.0, unit="ms", target="<= 10").met is True
    assert Figure(section="s", name="n", value=87.0, unit="chunks/s", target=">= 500").met is False
    assert Figure(section="s", name="n", value=1.0, unit="").met is None
    assert (
        Plan.of(quick=True).retrieval_sizes[-1] == 100_000
        and 1_000_000 in Plan.of(quick=False).retrieval_sizes
    )
    assert Plan.of(quick=False).hnswlib_from == 1_000_000  # the full run measures Chroma itself up to 100k


def test_retrieval_bench_measures_recall_against_exact_search(tmp_path: Path) -> None:
    if importlib.util.find_spec("chromadb") is None:
        pytest.fail("chromadb is a core dependency")
    bench = load_benchmark("retrieval_bench")
    exact_ef = bench.measure_size(
        3000, 20, {"ef_search": 200, "max_neighbors": 16, "ef_construction": 100}, tmp_path / "a"
    )
    sloppy = bench.measure_size(
        3000, 20, {"ef_search": 10, "max_neighbors": 4, "ef_construction": 10}, tmp_path / "b"
    )
    assert exact_ef.chunks == 3000 and exact_ef.recall_at_10 >= 0.9 and exact_ef.p50_ms > 0
    assert sloppy.recall_at_10 < exact_ef.recall_at_10  # the recall check sees a worse index


def test_large_indexes_are_measured_on_hnswlib_with_the_same_parameters_and_kept(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv(
        "XDG_CACHE_HOME", str(tmp_path / "cache")
    )  # the kept indexes go to the user's cache dir
    bench = load_benchmark("retrieval_bench")
    hnsw = {"ef_search": 100, "max_neighbors": 16, "ef_construction": 100}
    big = bench.measure_size(3000, 20, hnsw, tmp_path / "big", hnswlib_from=2000)
    small = bench.measure_size(1000, 20, hnsw, tmp_path / "small", hnswlib_from=2000)
    assert (big.engine, small.engine) == ("hnswlib", "chroma")
    assert big.recall_at_10 >= 0.9 and big.p50_ms > 0
    sloppy = {**hnsw, "ef_search": 10, "max_neighbors": 4, "ef_construction": 10}
    assert (
        bench.measure_size(3000, 20, sloppy, tmp_path / "s", hnswlib_from=2000).recall_at_10
        < big.recall_at_10
    )
    assert bench.index_cache(3000, hnsw).is_relative_to(tmp_path)
    again = bench.measure_size(3000, 20, hnsw, tmp_path / "again", hnswlib_from=2000)
    assert (
        not big.reused and again.reused and again.recall_at_10 == big.recall_at_10
    )  # the same index, loaded


def test_hybrid_search_benchmark_times_both_paths(tmp_path: Path) -> None:
    result = load_benchmark("retrieval_bench").measure_hybrid(600, 10, tmp_path)
    assert (
        result.chunks == 600
        and 0 < result.vector_only_p50_ms
        and 0 < result.hybrid_p50_ms <= result.hybrid_p99_ms
    )
    # and with every vector held in memory, as the server searches
    assert result.held_load_s is not None and result.held_vector_only_p50_ms and result.held_hybrid_p50_ms


def test_the_memory_eval_names_a_file_that_is_not_locomo(tmp_path: Path) -> None:
    from persona.errors import PersonaError
    from persona.evals.memory import load

    for name, content in (
        ("text.json", "not json"),
        ("object.json", '{"a": 1}'),
        ("no-talk.json", '[{"qa": []}]'),
    ):
        (tmp_path / name).write_text(content)
        with pytest.raises(PersonaError, match=f"{name}: not LoCoMo-format conversations"):
            load(tmp_path / name)


def test_the_ingest_bench_reports_the_product_beside_raw_sentence_transformers() -> None:
    from persona.bench import BenchReport, ingest_section

    report = BenchReport(quick=True, machine="test")
    plan = Plan.of(quick=True).model_copy(update={"embed_chunks": 8, "mails": 2})
    ingest_section(report, Settings(embedding_model=None, chroma_url=None), plan, lambda _: None)
    figures = {f.name: f for f in report.figures}
    throughput, ratio = figures["embedding throughput"], figures["embedding / raw sentence-transformers"]
    assert throughput.value is not None and throughput.value > 0 and "OpenVINO" in throughput.meaning
    anchor_rate = float(ratio.meaning.rsplit(", ", 1)[1].split()[0])
    assert ratio.value is not None and ratio.value > 0  # the anchor's rate is printed rounded to a chunk/s
    assert abs(ratio.value * anchor_rate - throughput.value) <= ratio.value * 0.5 + 0.01 * throughput.value
    assert figures["full ingest throughput"].value


def test_the_benchs_twin_turns_are_answers_from_memory_in_one_model_call(tmp_path: Path) -> None:
    """The bench compares a cold and a cached persona prefix: both turns must take the same path, the
    owner's question answered from memory, so their tokens and times compare."""
    import asyncio

    from persona.agent.runner import Twin
    from persona.bench import TWIN_QUESTIONS
    from persona.cli.demo import DEFAULT_DATA
    from persona.events import Event, Principal, Provenance
    from persona.profile import load_profile, save_profile

    home = Home(tmp_path / "home").ensure()
    save_profile(load_profile(DEFAULT_DATA / "persona.yaml"), home.profile_path)
    model = ScriptedChatModel(replies=["You have nothing in memory about that."] * len(TWIN_QUESTIONS))
    app = App(home, Settings(chroma_url=None), llm=LLM(model, local=True))
    owner = Principal.owner(app.profile)

    async def turns() -> list:
        async with Twin.open(app) as twin:
            return [
                await twin.respond(
                    Event(
                        channel="cli", principal=owner, text=q, session_id=n, provenance=Provenance.of(owner)
                    )
                )
                for n, q in TWIN_QUESTIONS
            ]

    replies = asyncio.run(turns())
    assert [r.skill for r in replies] == ["recall"] * len(TWIN_QUESTIONS)
    assert len(model.calls) == len(TWIN_QUESTIONS)
    assert [str(call[-1].content).count(q) for call, (_, q) in zip(model.calls, TWIN_QUESTIONS)] == [1, 1]
