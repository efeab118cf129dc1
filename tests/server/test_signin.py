"""Sign-in that costs an attacker more than the owner: wrong secrets remembered and limited with growing
waits, argon2 on its own small pool, browser sessions that end at sign-out and with their token, and
request rates that let the owner's scripts run."""

from __future__ import annotations

import asyncio
import hashlib
import sqlite3
import threading

import httpx
import pytest
from argon2 import PasswordHasher
from limits.storage import MemoryStorage
from server_helpers import Served, limits_clock, new_home, running_twin, uvicorn_on_loopback

from persona.server.errors import RateLimited
from persona.server.ratelimit import Limit
from persona.server.tokens import TokenStore
from persona.server.verifier import FAILED_TTL, VERIFY_WORKERS, TokenVerifier
from persona.settings import LimitSettings, Settings


class CountingHasher(PasswordHasher):
    """argon2 that counts its verifications and how many ran at once; given `hold`, each one waits while
    it is clear (argon2 that does not finish until the test says so)."""

    def __init__(self, hold: threading.Event | None = None, **cost: int):
        super().__init__(**cost)
        self.calls = self.running = self.peak = 0
        self.hold = hold
        self._lock = threading.Lock()

    def verify(self, hash: str | bytes, password: str | bytes) -> bool:
        with self._lock:
            self.calls, self.running = self.calls + 1, self.running + 1
            self.peak = max(self.peak, self.running)
        try:
            if self.hold is not None:
                self.hold.wait(120)
            return super().verify(hash, password)
        finally:
            with self._lock:
                self.running -= 1


def cheap_store(tmp_path) -> TokenStore:
    return TokenStore(
        tmp_path / "state.sqlite", hasher=CountingHasher(time_cost=1, memory_cost=1024, parallelism=1)
    )


def verifier(
    store: TokenStore, per_address: str = "1000/minute", per_token: str = "1000/minute"
) -> TokenVerifier:
    counters = MemoryStorage()
    by_address = Limit(per_address, counters, "failed sign-ins from this address")
    return TokenVerifier(store, by_address, Limit(per_token, counters, "failed sign-ins for this token"))


def wrong(token: str, n: int = 0) -> str:
    """The token's id with another secret."""
    return "_".join(token.split("_", 2)[:2]) + f"_wrong{n}"


def test_a_wrong_secret_runs_argon2_once_and_a_right_one_once(tmp_path):
    store = cheap_store(tmp_path)
    check = verifier(store)
    token = store.issue("invite", "sam@northwind.example")

    async def run() -> None:
        assert await check.verify(wrong(token), "10.0.0.1") is None
        assert await check.verify(wrong(token), "10.0.0.2") is None  # remembered: refused without argon2
        assert store.hasher.calls == 1
        assert (await check.verify(token, "10.0.0.1")).address == "sam@northwind.example"
        assert (await check.verify(token, "10.0.0.1")).address == "sam@northwind.example"
        assert store.hasher.calls == 2  # a script with its token pays argon2 once
        store.revoke("sam@northwind.example")
        assert await check.verify(token, "10.0.0.1") is None  # the revocation is read every time

    asyncio.run(run())


def test_a_wrong_secret_is_remembered_for_a_while_not_forever(tmp_path):
    now = [0.0]
    store = cheap_store(tmp_path)
    counters = MemoryStorage()
    check = TokenVerifier(
        store, Limit("1000/minute", counters, "a"), Limit("1000/minute", counters, "t"), clock=lambda: now[0]
    )
    guess = wrong(store.issue("invite", "sam@northwind.example"))

    async def run() -> None:
        assert await check.verify(guess, "10.0.0.1") is None
        now[0] += FAILED_TTL - 1
        assert await check.verify(guess, "10.0.0.1") is None and store.hasher.calls == 1
        now[0] += 2
        assert await check.verify(guess, "10.0.0.1") is None and store.hasher.calls == 2

    asyncio.run(run())


def test_malformed_unknown_and_revoked_tokens_cost_no_argon2_and_are_not_counted(tmp_path):
    store = cheap_store(tmp_path)
    check = verifier(store, per_address="2/minute")
    revoked = store.issue("invite", "kim@vendor.example")
    store.revoke("kim@vendor.example")

    async def run() -> None:
        for n in range(20):
            for token in (f"junk{n}", f"pt_{n:016x}_secret", wrong(revoked, n)):
                assert await check.verify(token, "10.0.0.1") is None
        check.by_address.check("10.0.0.1")  # still free to sign in

    asyncio.run(run())
    assert store.hasher.calls == 0


def test_failed_sign_ins_from_one_address_wait_longer_and_longer(tmp_path, monkeypatch):
    clock = limits_clock(monkeypatch)
    store = cheap_store(tmp_path)
    check = verifier(store, per_address="3/minute;6/hour")
    token = store.issue("invite", "sam@northwind.example")
    waits = []

    async def run() -> None:
        for n in range(6):
            while True:
                try:
                    assert await check.verify(wrong(token, n), "10.0.0.1") is None
                    break
                except RateLimited as refused:
                    waits.append(refused.retry_after)
                    clock.now += refused.retry_after  # a client that obeys Retry-After, then tries again
        with pytest.raises(RateLimited) as refused:
            await check.verify(token, "10.0.0.1")  # the right token too: no argon2 for this address now
        waits.append(refused.value.retry_after)
        assert (
            await check.verify(token, "10.0.0.9")
        ).address == "sam@northwind.example"  # other addresses go on

    asyncio.run(run())
    assert store.hasher.calls == 7  # six wrong secrets and one right one: no refused try ran argon2
    assert 1 <= waits[0] <= 61 and waits[-1] > 61  # the minute's window first, then the hour's
    assert all(wait >= 1 for wait in waits)


def test_failed_sign_ins_for_one_token_id_are_limited_from_any_address(tmp_path, monkeypatch):
    limits_clock(monkeypatch)
    store = cheap_store(tmp_path)
    check = verifier(store, per_token="3/minute")
    sam, lee = store.issue("invite", "sam@northwind.example"), store.issue("invite", "lee@northwind.example")

    async def run() -> None:
        for n in range(3):
            assert await check.verify(wrong(sam, n), f"10.0.0.{n}") is None
        with pytest.raises(RateLimited, match="failed sign-ins for this token"):
            await check.verify(wrong(sam, 9), "10.0.0.99")
        assert (await check.verify(lee, "10.0.0.99")).address == "lee@northwind.example"

    asyncio.run(run())
    assert store.hasher.calls == 4


@pytest.fixture
def fresh_counters(twin: Served):
    yield
    twin.api.state.persona.counters.reset()  # this module's later tests start with no failures counted


def test_a_refused_sign_in_is_a_429_with_retry_after(twin: Served, fresh_counters):
    token = twin.tokens["colleague_b"]
    statuses = [twin.client.post("/auth/session", json={"token": wrong(token, n)}) for n in range(8)]
    codes = [response.status_code for response in statuses]
    # the default: 5 wrong secrets a minute for one token (the sliding window may let a 6th through when
    # the tries straddle the turn of a minute)
    assert codes[:5] == [401] * 5 and 429 in codes[5:7]
    refused = statuses[codes.index(429)]
    wait = int(refused.headers["retry-after"])
    assert 1 <= wait <= 61  # a minute's window, rounded up
    assert refused.json()["error"] == f"too many failed sign-ins for this token; try again in {wait} s"
    bearer = twin.client.get("/api/me", headers={"Authorization": f"Bearer {wrong(token, 9)}"})
    assert (
        bearer.status_code == 429 and bearer.headers["retry-after"]
    )  # the API's bearer path is the same door


def test_the_owners_script_is_not_refused_but_an_invitee_is_limited(twin: Served, fresh_counters):
    owner, sam = twin.headers("owner"), twin.headers("colleague_a")
    for i in range(400):  # one after another, as a script does (before, 349 of 1,536 searches got 429)
        path = f"/api/memory/search?q=offer+{i}" if i % 8 == 0 else "/api/me"
        assert twin.client.get(path, headers=owner).status_code == 200, i
    statuses = [twin.client.get("/api/me", headers=sam).status_code for _ in range(241)]
    assert statuses[:240] == [200] * 240 and statuses[240] == 429


def sign_in(twin: Served, who: str) -> str:
    response = twin.client.post("/auth/session", json={"token": twin.tokens[who]})
    assert response.status_code == 200, response.text
    return response.cookies["persona_session"]


def test_the_cookie_holds_a_session_id_stored_hashed_never_the_token(twin: Served):
    try:
        session = sign_in(twin, "colleague_a")
        token = twin.tokens["colleague_a"]
        assert session not in token and token.split("_", 2)[2] not in session
        assert twin.client.get("/api/me").json()["address"] == "sam@northwind.example"
        with sqlite3.connect(twin.app.home.state_db) as db:
            stored = {row[0] for row in db.execute("SELECT hash FROM web_sessions")}
        assert hashlib.sha256(session.encode()).hexdigest() in stored and session not in stored
    finally:
        twin.client.cookies.clear()


def test_sign_out_ends_the_session_on_the_server_and_is_audited(twin: Served):
    client = twin.client
    earlier = len(twin.app.store.audit_entries(kind="signed_out"))
    session = sign_in(twin, "owner")
    assert client.get("/today", follow_redirects=False).status_code == 200
    csrf = client.cookies["persona_csrf"]
    assert client.post("/auth/logout").status_code == 403  # another site cannot sign the owner out
    assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204
    assert "persona_session" not in client.cookies
    client.cookies.set("persona_session", session)  # the old cookie, kept by someone
    try:
        assert client.get("/api/me").status_code == 401
        page = client.get("/today", follow_redirects=False)
        assert page.status_code == 303 and page.headers["location"] == "/login"
        client.cookies.set("persona_csrf", csrf)
        assert client.post("/auth/logout", headers={"X-CSRF-Token": csrf}).status_code == 204  # ended already
    finally:
        client.cookies.clear()
    sam = sign_in(twin, "colleague_a")
    assert (
        client.post("/auth/logout", headers={"X-CSRF-Token": client.cookies["persona_csrf"]}).status_code
        == 204
    )
    client.cookies.clear()
    audited = twin.app.store.audit_entries(kind="signed_out")[earlier:]
    assert [(e.actor, e.subject, e.detail) for e in audited] == [
        ("dana@northwind.example", "web", {}),
        ("sam@northwind.example", "web", {}),
    ]  # once each: not the dead cookie
    for secret in (twin.tokens["owner"], twin.tokens["colleague_a"], session, sam):
        assert all(secret not in str(e.model_dump()) for e in audited)


def test_a_token_in_the_cookie_no_longer_signs_in(twin: Served):
    """Cookies set before sessions held the token itself: such a browser signs in again."""
    twin.client.cookies.set("persona_session", twin.tokens["colleague_a"])
    try:
        assert twin.client.get("/api/me").status_code == 401
    finally:
        twin.client.cookies.clear()


def test_revoking_a_token_ends_its_sessions(twin: Served):
    tokens = twin.api.state.persona.tokens
    twin.tokens["sam_again"] = tokens.issue("invite", "sam@northwind.example")
    twin.tokens["old_owner"] = twin.tokens["owner"]
    try:
        sam = sign_in(twin, "sam_again")
        owner = sign_in(twin, "old_owner")
        twin.client.cookies.clear()
        tokens.revoke("sam@northwind.example")  # as `persona invite --revoke` does
        twin.tokens["owner"] = tokens.issue("owner")  # as `persona token owner` does: the old one is revoked
        for session in (sam, owner):
            twin.client.cookies.set("persona_session", session)
            assert twin.client.get("/api/me").status_code == 401
            twin.client.cookies.clear()
    finally:
        twin.tokens["colleague_a"] = tokens.issue("invite", "sam@northwind.example")
        twin.client.cookies.clear()


def test_the_owner_never_waits_behind_sign_in_verification(tmp_path):
    """A real flood over loopback, with the failure limits out of the way so every try reaches argon2, and
    argon2 held so that no verification finishes while the owner works: every request of the owner (its
    bearer token, its browser session) is answered all the same, with no argon2 of its own. Before, argon2
    ran where every request waited, and during a flood /api/approvals took 18.8 s instead of 0.02 s. How
    long the owner's requests take under a flood is measured by benchmarks/abuse.py, not asserted here."""
    open_door = Settings(
        limits=LimitSettings(
            signin_failures_per_address="100000/minute", signin_failures_per_token="100000/minute"
        )
    )
    with running_twin(new_home(tmp_path / "home"), settings=open_door) as twin:
        hasher = twin.api.state.persona.tokens.hasher = CountingHasher(
            hold=threading.Event()
        )  # argon2's real cost
        hasher.hold.set()
        with uvicorn_on_loopback(twin.api) as base:
            asyncio.run(flood_while_argon2_is_held(base, twin, hasher))
    assert hasher.peak <= VERIFY_WORKERS


async def flood_while_argon2_is_held(base: str, twin: Served, hasher: CountingHasher) -> None:
    owner_bearer = {"Authorization": f"Bearer {twin.tokens['owner']}"}
    async with (
        httpx.AsyncClient(base_url=base, timeout=60) as owner,
        httpx.AsyncClient(base_url=base, timeout=60, limits=httpx.Limits(max_connections=64)) as attacker,
    ):
        assert (await owner.get("/api/me", headers=owner_bearer)).status_code == 200  # its one argon2, before
        signed_in = await owner.post("/auth/session", json={"token": twin.tokens["owner"]})
        assert signed_in.status_code == 200 and owner.cookies["persona_session"]
        hasher.hold.clear()
        stop, statuses = asyncio.Event(), []

        async def attack(n: int) -> None:
            tries = 0
            while not stop.is_set():
                guess = wrong(twin.tokens["colleague_b"], n * 10_000 + tries)
                response = await attacker.post("/auth/session", json={"token": guess})
                statuses.append(response.status_code)
                tries += 1

        attackers = [asyncio.create_task(attack(n)) for n in range(12)]  # 3 times the lane's places
        while hasher.running < VERIFY_WORKERS:  # every argon2 worker is busy with the flood, and stays so
            await asyncio.sleep(0.01)
        calls_before = hasher.calls

        async def owner_work(count: int) -> None:
            for i in range(count):
                response = await owner.get("/api/approvals", headers=owner_bearer if i % 2 else {})
                assert response.status_code == 200, response.text

        try:
            await asyncio.wait_for(owner_work(60), timeout=60)
        except TimeoutError:
            pytest.fail("the owner's requests waited behind sign-in verification")
        finally:
            held = (hasher.calls, hasher.running, len(statuses))
            stop.set()
            hasher.hold.set()
            await asyncio.gather(*attackers)
        # argon2 held throughout, none of it the owner's, and no sign-in of the flood answered meanwhile
        assert held == (calls_before, VERIFY_WORKERS, 0)
    assert set(statuses) == {401}
