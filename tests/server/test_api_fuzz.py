"""Schemathesis fuzzes every operation of the server's OpenAPI schema in-process (no network).

Each operation is fuzzed as the owner, as a colleague and with no token, from a fixed seed and a
bounded number of examples, so CI sends the same requests every run. Checks: no 5xx ever, and every
response whose status the schema declares has its content type and matches its schema (the chat
stream event by event against the declared SSE item schema). The scripted model answers every chat
turn at once, and the rate limits are far above what the fuzz sends, so requests reach the handlers.

The schema is loaded from the routes at import, since pytest parametrizes from it at collection
(schemathesis' fixture-based loader breaks on pytest 9.2); the fixture checks the served app has the
same paths. Requests go through a TestClient rather than schemathesis' own ASGI client: that one is
built on `requests`, whose pool bookkeeping breaks under the urllib3-future that niquests installs in
place of urllib3.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from typing import Any

import pytest
import schemathesis
from fastapi import FastAPI
from hypothesis import HealthCheck, settings
from schemathesis.checks import content_type_conformance, not_a_server_error, response_schema_conformance
from schemathesis.config import SchemathesisConfig
from server_helpers import Served, answering, new_home, running_twin

from persona.server.routes import ROUTERS
from persona.settings import LimitSettings, Settings

SEED = 7
EXAMPLES = 50  # fuzzing-phase cases per operation and principal, on top of the deterministic coverage phase
PRINCIPALS = ("owner", "colleague_a", "stranger")
CHECKS = [not_a_server_error, response_schema_conformance, content_type_conformance]
UNLIMITED = Settings(
    limits=LimitSettings(
        chat_limit="1000000/minute", api_limit="1000000/minute", owner_api_limit="1000000/minute"
    )
)


def routes_schema() -> dict[str, Any]:
    """The OpenAPI document of the server's routes, built without a twin: pytest collects from it."""
    bare = FastAPI()
    for router in ROUTERS:
        bare.include_router(router)
    return bare.openapi()


SPEC = routes_schema()
schema = schemathesis.openapi.from_dict(
    SPEC, config=SchemathesisConfig.from_dict({"seed": SEED, "generation": {"mode": "all"}})
)
# (principal, operation, status) -> requests, printed when the module ends: the counts the README quotes
sent: Counter[tuple[str, str, int]] = Counter()


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, request: pytest.FixtureRequest) -> Iterator[Served]:
    with running_twin(new_home(tmp_path_factory.mktemp("fuzz") / "home"), settings=UNLIMITED) as twin:
        assert twin.api.openapi()["paths"] == SPEC["paths"], "the fuzz must run against the served schema"
        yield twin
    capture = request.config.pluginmanager.getplugin("capturemanager")
    if sent and capture is not None:  # printed past pytest's capture: CI logs keep the counts
        with capture.global_and_fixture_disabled():
            print(f"\nAPI fuzz, seed {SEED}: {sum(sent.values())} requests; per principal and operation:")
            for who, operation in sorted({(w, o) for w, o, _ in sent}):
                statuses = {s: n for (w, o, s), n in sorted(sent.items()) if (w, o) == (who, operation)}
                print(f"  {who:12} {operation:45} {sum(statuses.values()):4}  {statuses}")


@pytest.fixture(scope="module", params=PRINCIPALS)
def who(request: pytest.FixtureRequest) -> str:
    return request.param


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],  # invalid inputs filter a lot
)
def test_api_never_fails_and_answers_as_declared(case: schemathesis.Case, who: str, served: Served) -> None:
    served.model.replies[:] = [
        answering("Thanks, that is in the plan.")
    ] * 3  # route (and a retry), then answer
    request = case.as_transport_kwargs(base_url=str(served.client.base_url), headers=served.headers(who))
    response = served.client.request(**_for_httpx(request))
    sent[who, case.operation.label, response.status_code] += 1
    case.validate_response(response, checks=CHECKS)
    assert response.status_code != 429, "the rate limit kept the fuzz from the handler"
    if who != "stranger" and not case.path.startswith("/auth/"):  # /auth/session checks the body's token
        assert response.status_code != 401, "a valid bearer token was refused"


def _for_httpx(kwargs: dict[str, Any]) -> dict[str, Any]:
    """schemathesis serializes for `requests`; httpx takes a raw body as `content`, not `data`."""
    if isinstance(kwargs.get("data"), bytes | str):
        kwargs["content"] = kwargs.pop("data")
    return kwargs
