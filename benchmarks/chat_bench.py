"""Chat under load: many concurrent sessions through the real HTTP stack, against a scripted LLM.

    python benchmarks/chat_bench.py [--sessions 200] [--turns 5] [--think 10] [--latency 0.05]
                                    [--memory 1000] [--retrieval real|off] [--json out.json]

The server runs in its own process (uvicorn on a loopback port, as `persona serve` runs it) with a
fresh home: a profile with one colleague per session, a memory of `--memory` generated notes and
tone samples (team and owner-only, so every search filters), one invite token each, and a
ScriptedChatModel that answers every call after a fixed `--latency`. This process is the client:
one aiohttp session keeps all sessions open at once (httpx took 3× its CPU per turn, and the client
shares the machine with the server). Each first signs in (its token's one argon2 check,
not a chat turn), then sends `--turns` messages, pausing a random time between them as a person does
(exponential, mean `--think` seconds, fixed seed; sessions start spread over the first pause). Every
message is distinct, so each turn embeds its question anew.
`--think 0` sends back to back: the server is then saturated and the figures measure queueing, not
the twin. The twin's own overhead per turn is the turn's wall time minus the scripted latency
(one LLM call per turn).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path

import aiohttp
from loopback import cpu_seconds, percentile, serve_on_loopback, server_process
from pydantic import BaseModel

MEMORY = [
    ("The Postgres 16 cutover is planned for 2026-12-08 at 06:00 CET.", "team"),
    ("The quarterly planning review moved to Thursday 14:00 in room Orion.", "team"),
    ("Offer from Helix Robotics: EUR 212,400 base, answer by 2026-12-04.", "owner"),
]
TOPICS = [
    "Postgres 16 cutover",
    "quarterly planning",
    "on-call rota",
    "Lisbon offsite",
    "SRE hiring",
    "incident INC-2291",
    "vendor contract",
    "code review norms",
    "budget review",
    "release train",
]
PEOPLE = ["Sofia", "Jonas", "Priya", "Tomasz", "Aisha", "Martin", "Hannah", "Felix"]
DAYS = ["Monday", "Tuesday", "Wednesday", "Thursday", "Friday"]


def generated_memory(count: int) -> list[tuple[str, str, str]]:
    """(text, kind, audience) notes like an owner's: one in five a tone sample, one in four owner-only."""
    rng = random.Random(7)
    items = []
    for i in range(count):
        topic, person, day = rng.choice(TOPICS), rng.choice(PEOPLE), rng.choice(DAYS)
        text = (
            f"Note {i} on the {topic}: {person} will have the next step ready by {day}; "
            f"open questions go to the {rng.choice(TOPICS)} thread, figures in sheet {rng.randint(100, 999)}."
        )
        items.append((text, "exemplar" if i % 5 == 0 else "knowledge", "owner" if i % 4 == 0 else "team"))
    return items


QUESTIONS = [
    "When is the pg16 cutover?",
    "Where is the planning review?",
    "Is Dana joining the review on Thursday?",
    "Any news on the migration?",
    "Thanks, that helps.",
]


class NoRetrieval:
    """`--retrieval off`: memory that finds nothing without embedding anything, to separate the cost of
    the embedding model (CPU-bound, shared by all turns) from the rest of the twin and the server."""

    def search(self, *args: object, **kwargs: object) -> list:
        return []

    async def asearch_kinds(self, query: str, audiences: object, ks: dict[str, int]) -> dict[str, list]:
        return {kind: [] for kind in ks}

    def focused(self, query: str, hits: list) -> list:
        return hits

    def texts_holding(self, *args: object, **kwargs: object) -> list[str]:
        return []

    def prefetch_kinds(self, *args: object, **kwargs: object) -> None:
        pass

    def keep_vectors_in_memory(self) -> None:
        pass


class Results(BaseModel):
    transport: str
    retrieval: str
    memory_items: int
    sessions: int
    turns: int
    think_s: float
    llm_latency_ms: float
    wall_s: float
    turns_per_s: float
    overhead_p50_ms: float
    overhead_p99_ms: float
    overhead_max_ms: float
    twin_turn_mean_ms: float  # server side: time inside the twin (retrieval, LLM, guard, gate, audit)
    http_layer_mean_ms: float  # client turn time minus the twin's: HTTP, auth, session index, SSE, queueing
    server_cpu_ms_per_turn: float  # CPU the server process spent per turn: the cost, without the waiting
    server_cpu_busy: float  # share of one core the server used: near 1.0 means turns queue for the CPU
    errors: int


# -- server process --------------------------------------------------------------------------------


def serve(
    root: Path, sessions: int, turns: int, latency: float, retrieval: str, memory: int, ready_file: Path
) -> None:
    import uvicorn

    from persona.app import App
    from persona.home import Home
    from persona.llm.client import LLM
    from persona.llm.scripted import ScriptedChatModel
    from persona.memory.store import MemoryItem
    from persona.profile import Audience, Profile, save_profile
    from persona.server import create_app
    from persona.settings import LimitSettings, Settings

    home = Home(root).ensure()
    people = [
        {"name": f"Colleague {i}", "emails": [f"c{i}@northwind.example"], "role": "colleague"}
        for i in range(sessions)
    ]
    save_profile(
        Profile.model_validate(
            {"owner": {"name": "Dana Reyes", "emails": ["dana@northwind.example"]}, "people": people}
        ),
        home.profile_path,
    )
    replies = ["Sure, the cutover is on 8 December at 06:00 CET; I'll confirm the details."] * (
        sessions * turns + 10
    )
    # Limits sized for the load: the benchmark measures the twin, not the rate limiter saying no.
    limits = Settings(limits=LimitSettings(chat_limit=f"{60 * turns}/minute", api_limit="6000/minute"))
    app = App(home, limits, llm=LLM(ScriptedChatModel(replies=replies, latency=latency), local=True))
    if retrieval == "off":
        app.__dict__["memory"] = NoRetrieval()  # App caches memory as a property; this takes its place
    else:
        notes = [(text, "knowledge", aud) for text, aud in MEMORY] + generated_memory(memory)
        app.memory.add([MemoryItem.make(text, kind, Audience(aud)) for text, kind, aud in notes])
    api = create_app(app)
    tokens = [api.state.persona.tokens.issue("invite", f"c{i}@northwind.example") for i in range(sessions)]
    owner = api.state.persona.tokens.issue("owner")
    config = uvicorn.Config(
        api, host="127.0.0.1", port=0, log_level="warning", backlog=4 * sessions, timeout_keep_alive=60
    )
    serve_on_loopback(config, ready_file, {"tokens": tokens, "owner": owner})


# -- client ----------------------------------------------------------------------------------------


async def one_session(
    client: aiohttp.ClientSession,
    token: str,
    turns: int,
    think: float,
    rng: random.Random,
    name: str = "warm-up",
) -> tuple[list[float], int]:
    headers = {"Authorization": f"Bearer {token}"}
    session: str | None = None
    times: list[float] = []
    errors = 0
    await asyncio.sleep(rng.uniform(0, think))
    for turn in range(turns):
        if turn:
            await asyncio.sleep(rng.expovariate(1 / think) if think else 0)
        # every message is distinct, as people's are: no turn reuses an earlier turn's embedding
        message = f"{QUESTIONS[turn % len(QUESTIONS)]} ({name}, note {turn + 1})"
        body = {"message": message} | ({"session": session} if session else {})
        start = time.perf_counter()
        try:
            async with client.post("/api/chat", json=body, headers=headers) as response:
                if response.status != 200:
                    errors += 1
                    continue
                finished = False
                async for raw in response.content:
                    line = raw.decode().rstrip("\r\n")
                    if line.startswith("event: error"):
                        break
                    if line.startswith("event: done"):
                        finished = True
                    elif finished and line.startswith("data: "):
                        session = json.loads(line[6:])["session"]
                        break
        except aiohttp.ClientError:
            finished = False
        if finished:
            times.append(time.perf_counter() - start)
        else:
            errors += 1
    return times, errors


def twin_turn_mean(metrics: str) -> float:
    """Mean time of a turn inside the twin, from the server's own histogram."""
    values = {
        line.split()[0]: float(line.split()[1])
        for line in metrics.splitlines()
        if line.startswith("persona_chat_turn_seconds_")
    }
    return values["persona_chat_turn_seconds_sum"] / max(values["persona_chat_turn_seconds_count"], 1)


class Run(BaseModel):
    times: list[float]
    errors: int
    wall: float
    twin_mean: float
    server_cpu: float


async def load(url: str, tokens: list[str], turns: int, think: float, owner: str, server_pid: int) -> Run:
    connector = aiohttp.TCPConnector(limit=len(tokens) + 10)
    timeout = aiohttp.ClientTimeout(total=120)
    async with aiohttp.ClientSession(url, connector=connector, timeout=timeout) as client:
        # Outside the measurement: one warm-up turn (imports, SQLite pages) and each session's sign-in.
        await one_session(client, tokens[0], 1, 0, random.Random(0))
        for token in tokens:
            async with client.get("/api/me", headers={"Authorization": f"Bearer {token}"}) as response:
                response.raise_for_status()
        rngs = [random.Random(i) for i in range(len(tokens))]
        cpu, start = cpu_seconds(server_pid), time.perf_counter()
        results = await asyncio.gather(
            *(
                one_session(client, token, turns, think, rng, f"colleague {i}")
                for i, (token, rng) in enumerate(zip(tokens, rngs))
            )
        )
        wall, cpu = time.perf_counter() - start, cpu_seconds(server_pid) - cpu
        async with client.get("/metrics", headers={"Authorization": f"Bearer {owner}"}) as response:
            metrics = await response.text()
    return Run(
        times=[t for times, _ in results for t in times],
        errors=sum(e for _, e in results),
        wall=wall,
        twin_mean=twin_turn_mean(metrics),
        server_cpu=cpu,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sessions", type=int, default=200)
    parser.add_argument("--turns", type=int, default=5)
    parser.add_argument(
        "--think",
        type=float,
        default=10.0,
        help="Mean pause between a session's turns, seconds (0: back to back).",
    )
    parser.add_argument("--latency", type=float, default=0.05, help="Scripted LLM latency per call, seconds.")
    parser.add_argument(
        "--memory",
        type=int,
        default=1000,
        help="Generated memory items besides three fixed facts (embedded at start).",
    )
    parser.add_argument(
        "--retrieval",
        choices=["real", "off"],
        default="real",
        help="off: memory finds nothing and embeds nothing (isolates the embedding model's cost).",
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: run the server process
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.think < 0 or args.latency < 0 or args.memory < 0 or args.sessions < 1 or args.turns < 1:
        parser.error("--think, --latency and --memory must be >= 0, --sessions and --turns >= 1")
    if args.serve:
        serve(
            args.serve, args.sessions, args.turns, args.latency, args.retrieval, args.memory, args.ready_file
        )
        return

    with tempfile.TemporaryDirectory(prefix="chat-bench-") as tmp:
        ready = Path(tmp) / "ready.json"
        serving = [
            "--serve",
            str(Path(tmp) / "home"),
            "--sessions",
            str(args.sessions),
            "--turns",
            str(args.turns),
            "--latency",
            str(args.latency),
            "--retrieval",
            args.retrieval,
            "--memory",
            str(args.memory),
        ]
        with server_process(__file__, ready, *serving) as (pid, info):
            run = asyncio.run(load(info["url"], info["tokens"], args.turns, args.think, info["owner"], pid))

    times = run.times
    overhead_ms = [(t - args.latency) * 1000 for t in times] or [float("nan")]
    results = Results(
        transport="aiohttp -> uvicorn on 127.0.0.1 (server in its own process)",
        retrieval=args.retrieval,
        memory_items=len(MEMORY) + args.memory if args.retrieval == "real" else 0,
        sessions=args.sessions,
        turns=args.turns,
        think_s=args.think,
        llm_latency_ms=args.latency * 1000,
        wall_s=round(run.wall, 2),
        turns_per_s=round(len(times) / run.wall, 1),
        overhead_p50_ms=round(statistics.median(overhead_ms), 1),
        overhead_p99_ms=round(percentile(overhead_ms, 0.99), 1),
        overhead_max_ms=round(max(overhead_ms), 1),
        twin_turn_mean_ms=round(run.twin_mean * 1000, 1),
        http_layer_mean_ms=round((statistics.fmean(times) - run.twin_mean) * 1000, 1)
        if times
        else float("nan"),
        server_cpu_ms_per_turn=round(run.server_cpu * 1000 / max(len(times), 1), 1),
        server_cpu_busy=round(run.server_cpu / run.wall, 2),
        errors=run.errors,
    )
    for key, value in results.model_dump().items():
        print(f"{key:>16}: {value}")
    print(f"{'target':>16}: overhead p50 <= 20 ms, p99 <= 100 ms, errors 0")
    if args.json:
        args.json.write_text(results.model_dump_json(indent=2))


if __name__ == "__main__":
    main()
