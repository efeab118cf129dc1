"""Abuse on loopback: the owner's latency and the server's memory while sign-in is flooded.

    python benchmarks/abuse.py [--signins 1000] [--oversized 200] [--malformed 100] [--addresses 20]
                               [--failure-limit SPEC] [--json out.json]

The server runs in its own process (uvicorn on a loopback port, as `persona serve` runs it, default
settings) with a fresh home: an owner, three invited colleagues, a little memory. This process is the
owner's client, and the attackers run in a third process, so neither client slows the other. The owner works through the whole run, one request after another (`GET /api/approvals` and a
memory search, half with the bearer token, half with a browser session), first alone (the quiet
baseline), then while attackers send, all at once from `--addresses` loopback addresses (127.0.0.2…):
- `--signins` sign-ins with a real colleague's token id and a new wrong secret each time;
- `--oversized` sign-ins with a 2 MiB body (a quarter sent chunked, without a Content-Length);
- `--malformed` sign-ins with broken JSON or a lone surrogate.
It prints the owner's p50/p99 in both phases, what the flood was answered, and the growth of the
server's peak RSS (VmHWM) from the end of the quiet phase to the end of the flood. Bounded: every
request has a 30 s timeout and the run stops after 5 minutes. `--failure-limit 100000/minute` takes
the failure limits out of the way, so that every wrong secret costs argon2 and the bounded pool alone
protects the owner.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import statistics
import sys
import tempfile
import time
from collections import Counter
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
from loopback import cpu_seconds, percentile, serve_on_loopback, server_process
from pydantic import BaseModel

OVERSIZED = 2 * 1024 * 1024  # twice the default PERSONA_MAX_REQUEST_BYTES
MALFORMED = [b'{"token": ', b'{"token": "\\ud800"}', b"not json at all", b'{"token": ["pt_", 1]}']
COLLEAGUES = ["sam@northwind.example", "lee@northwind.example", "kim@northwind.example"]
RUN_LIMIT_S = 300


class Results(BaseModel):
    transport: str
    failure_limit: str
    owner_requests_quiet: int
    owner_requests_flood: int
    quiet_p50_ms: float
    quiet_p99_ms: float
    flood_p50_ms: float
    flood_p99_ms: float
    p99_ratio: float
    flood_s: float
    flood_answers: dict[str, int]  # "kind status" -> count
    owner_errors: int
    rss_quiet_mb: float
    rss_peak_growth_mb: float  # VmHWM at the end of the flood minus VmHWM at the end of the quiet phase
    server_cpu_s_flood: float
    load_average: str  # the machine's 1-minute load at the start and the end: other work skews the figures


# -- server process --------------------------------------------------------------------------------


def serve(root: Path, failure_limit: str | None, ready_file: Path) -> None:
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
    people = [{"name": a.split("@")[0].title(), "emails": [a], "role": "colleague"} for a in COLLEAGUES]
    profile = {"owner": {"name": "Dana Reyes", "emails": ["dana@northwind.example"]}, "people": people}
    save_profile(Profile.model_validate(profile), home.profile_path)
    limits = {"signin_failures_per_address": failure_limit, "signin_failures_per_token": failure_limit}
    settings = Settings(
        limits=LimitSettings(**{key: value for key, value in limits.items() if failure_limit})
    )
    app = App(home, settings, llm=LLM(ScriptedChatModel(), local=True))
    app.memory.add(
        [
            MemoryItem.make(
                f"Note {i}: the Postgres 16 cutover step {i} is on Monday.", "knowledge", Audience.TEAM
            )
            for i in range(50)
        ]
    )
    api = create_app(app)
    tokens = api.state.persona.tokens
    invites = [tokens.issue("invite", address) for address in COLLEAGUES]
    owner = tokens.issue("owner")
    config = uvicorn.Config(api, host="127.0.0.1", port=0, log_level="error", backlog=2048)
    serve_on_loopback(config, ready_file, {"owner": owner, "invites": invites})


# -- client ----------------------------------------------------------------------------------------


def status_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    raise KeyError(key)


class Owner:
    """The owner's client: one request after another, bearer and browser session in turn."""

    def __init__(self, client: aiohttp.ClientSession, token: str):
        self.client = client
        self.bearer = {"Authorization": f"Bearer {token}"}
        self.errors = 0
        self.n = 0

    async def sign_in(self, token: str) -> None:
        async with self.client.post("/auth/session", json={"token": token}) as response:
            response.raise_for_status()
        async with self.client.get("/api/me", headers=self.bearer) as response:  # the token's one argon2
            response.raise_for_status()

    async def one(self) -> float:
        self.n += 1
        path = "/api/approvals" if self.n % 4 < 2 else f"/api/memory/search?q=cutover+step+{self.n % 50}"
        headers = self.bearer if self.n % 2 else {}
        start = time.perf_counter()
        async with self.client.get(path, headers=headers) as response:
            await response.read()
            if response.status != 200:
                self.errors += 1
        return time.perf_counter() - start

    async def until(self, done: asyncio.Event, at_least: int) -> list[float]:
        times: list[float] = []
        while len(times) < at_least or not done.is_set():
            times.append(await self.one())
        return times


async def chunks(size: int) -> AsyncIterator[bytes]:
    yield b'{"token": "'
    for _ in range(size // 65536):
        yield b"x" * 65536
    yield b'"}'


async def flood(url: str, invites: list[str], args: argparse.Namespace, answers: Counter[str]) -> None:
    """Every attack at once, spread over the attacking addresses, at most 64 requests in flight."""
    sessions = [
        aiohttp.ClientSession(
            url,
            connector=aiohttp.TCPConnector(local_addr=(f"127.0.0.{2 + i}", 0), limit=8),
            timeout=aiohttp.ClientTimeout(total=30),
        )
        for i in range(args.addresses)
    ]
    ids = [token.rsplit("_", 1)[0] for token in invites]
    rng = random.Random(7)
    attacks: list[tuple[str, dict]] = (
        [
            ("wrong secret", {"json": {"token": f"{rng.choice(ids)}_{rng.randbytes(24).hex()}"}})
            for _ in range(args.signins)
        ]
        + [
            ("oversized", {"data": b'{"token": "' + b"x" * OVERSIZED + b'"}'})
            for _ in range(args.oversized * 3 // 4)
        ]
        + [("oversized chunked", {}) for _ in range(args.oversized - args.oversized * 3 // 4)]
        + [("malformed", {"data": MALFORMED[i % len(MALFORMED)]}) for i in range(args.malformed)]
    )
    rng.shuffle(attacks)
    gate = asyncio.Semaphore(64)

    async def attack(i: int, kind: str, kwargs: dict) -> None:
        if kind == "oversized chunked":
            kwargs = {"data": chunks(OVERSIZED)}
        headers = {} if "json" in kwargs else {"Content-Type": "application/json"}
        async with gate:
            try:
                async with sessions[i % len(sessions)].post(
                    "/auth/session", headers=headers, **kwargs
                ) as response:
                    await response.read()
                    answers[f"{kind} {response.status}"] += 1
            except (TimeoutError, aiohttp.ClientError) as exc:
                answers[f"{kind} {type(exc).__name__}"] += 1

    try:
        await asyncio.gather(*(attack(i, kind, kwargs) for i, (kind, kwargs) in enumerate(attacks)))
    finally:
        await asyncio.gather(*(session.close() for session in sessions))


async def measure(
    url: str, info: dict, args: argparse.Namespace, pid: int, attack: list[str], answers_file: Path
) -> Results:
    jar = aiohttp.CookieJar(unsafe=True)  # cookies for an IP address
    async with aiohttp.ClientSession(url, cookie_jar=jar, timeout=aiohttp.ClientTimeout(total=30)) as client:
        owner = Owner(client, info["owner"])
        await owner.sign_in(info["owner"])
        for _ in range(40):  # warm-up: SQLite pages, the embedding of a query, connection set-up
            await owner.one()
        quiet_done = asyncio.Event()
        quiet_done.set()
        quiet = await owner.until(quiet_done, args.quiet)
        hwm_quiet, rss_quiet = status_kb(pid, "VmHWM"), status_kb(pid, "VmRSS")
        load_start = os.getloadavg()[0]
        done = asyncio.Event()
        cpu, start = cpu_seconds(pid), time.perf_counter()
        attackers = await asyncio.create_subprocess_exec(*attack)
        waiting = asyncio.create_task(attackers.wait())
        waiting.add_done_callback(lambda _: done.set())
        try:
            during = await owner.until(done, 20)
        finally:
            if attackers.returncode is None:  # the run's time is up
                attackers.kill()
        flood_s, cpu = time.perf_counter() - start, cpu_seconds(pid) - cpu
        hwm_flood = status_kb(pid, "VmHWM")
    if attackers.returncode:
        raise SystemExit("the attacking process failed")
    return Results(
        transport="aiohttp -> uvicorn on 127.0.0.1 (server, owner and attackers in three processes)",
        failure_limit=args.failure_limit or "the defaults",
        owner_requests_quiet=len(quiet),
        owner_requests_flood=len(during),
        quiet_p50_ms=round(statistics.median(quiet) * 1000, 1),
        quiet_p99_ms=round(percentile(quiet, 0.99) * 1000, 1),
        flood_p50_ms=round(statistics.median(during) * 1000, 1),
        flood_p99_ms=round(percentile(during, 0.99) * 1000, 1),
        p99_ratio=round(percentile(during, 0.99) / percentile(quiet, 0.99), 2),
        flood_s=round(flood_s, 1),
        flood_answers=json.loads(answers_file.read_text()),
        owner_errors=owner.errors,
        rss_quiet_mb=round(rss_quiet / 1024, 1),
        rss_peak_growth_mb=round((hwm_flood - hwm_quiet) / 1024, 1),
        server_cpu_s_flood=round(cpu, 1),
        load_average=f"{load_start:.1f} -> {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--signins", type=int, default=1000, help="Wrong-secret sign-ins in the flood.")
    parser.add_argument("--oversized", type=int, default=200, help="Sign-ins with a 2 MiB body.")
    parser.add_argument("--malformed", type=int, default=100, help="Sign-ins with broken JSON.")
    parser.add_argument("--addresses", type=int, default=20, help="Loopback addresses the flood comes from.")
    parser.add_argument("--quiet", type=int, default=400, help="Owner requests in the quiet baseline.")
    parser.add_argument(
        "--failure-limit", help="Both failed sign-in limits, e.g. 100000/minute (default: settings')."
    )
    parser.add_argument("--json", type=Path, help="Also write the results here.")
    parser.add_argument("--serve", type=Path, help=argparse.SUPPRESS)  # internal: run the server process
    parser.add_argument("--ready-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument(
        "--attack", type=Path, help=argparse.SUPPRESS
    )  # internal: flood, answers to this file
    args = parser.parse_args()
    if (
        min(args.signins, args.oversized, args.malformed) < 0
        or not 1 <= args.addresses <= 200
        or args.quiet < 100
    ):
        parser.error("counts must be >= 0, --addresses 1..200, --quiet >= 100")
    if args.serve:
        serve(args.serve, args.failure_limit, args.ready_file)
        return
    if args.attack:
        info, answers = json.loads(args.ready_file.read_text()), Counter()
        asyncio.run(flood(info["url"], info["invites"], args, answers))
        args.attack.write_text(json.dumps(dict(sorted(answers.items()))))
        return

    with tempfile.TemporaryDirectory(prefix="abuse-bench-") as tmp:
        ready = Path(tmp) / "ready.json"
        limit = ["--failure-limit", args.failure_limit] if args.failure_limit else []
        with server_process(__file__, ready, "--serve", str(Path(tmp) / "home"), *limit) as (pid, info):
            answers = Path(tmp) / "answers.json"
            attack = [sys.executable, __file__, "--attack", str(answers), "--ready-file", str(ready)] + [
                f"--{name}={getattr(args, name)}"
                for name in ("signins", "oversized", "malformed", "addresses")
            ]
            results = asyncio.run(
                asyncio.wait_for(measure(info["url"], info, args, pid, attack, answers), RUN_LIMIT_S)
            )

    for key, value in results.model_dump().items():
        print(f"{key:>20}: {value}")
    met = results.p99_ratio <= 5 and results.rss_peak_growth_mb <= 100 and results.owner_errors == 0
    print(
        f"{'target':>20}: owner p99 <= 5x quiet, peak RSS growth <= 100 MB, no owner errors: "
        f"{'met' if met else 'NOT met'}"
    )
    if args.json:
        args.json.write_text(results.model_dump_json(indent=2))


if __name__ == "__main__":
    main()
