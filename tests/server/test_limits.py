"""Hostile requests: bodies over the size limit are refused before they are read whole, a validation
error never echoes the input, and a lone surrogate in JSON is a 422, not a 500."""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Iterator

import pytest
from server_helpers import Served

from persona.errors import ConfigError
from persona.settings import Settings, load_settings

LIMIT = 1024 * 1024  # the documented default


def test_the_default_limit_is_one_mebibyte_and_is_a_setting(monkeypatch):
    assert Settings().limits.max_request_bytes == LIMIT
    monkeypatch.setenv("PERSONA_MAX_REQUEST_BYTES", "4096")
    assert load_settings().limits.max_request_bytes == 4096
    monkeypatch.setenv("PERSONA_MAX_REQUEST_BYTES", "lots")
    with pytest.raises(ConfigError, match="PERSONA_MAX_REQUEST_BYTES"):
        load_settings()


@pytest.mark.parametrize("path", ["/auth/session", "/api/chat"])
def test_a_body_over_the_limit_is_413_by_its_content_length(twin: Served, path: str):
    body = json.dumps({"token": "x" * (5 * LIMIT), "message": "x" * (5 * LIMIT)})
    response = twin.client.post(
        path, content=body, headers=twin.headers("colleague_a") | {"Content-Type": "application/json"}
    )
    assert response.status_code == 413
    assert len(response.content) < 200 and response.json()


def test_a_chunked_body_is_413_in_json(twin: Served):
    def chunks() -> Iterator[bytes]:  # no Content-Length: the server counts what arrives
        yield b'{"token": "'
        yield b"x" * 2 * LIMIT
        yield b'"}'

    response = twin.client.post(
        "/auth/session", content=chunks(), headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 413 and len(response.content) < 200 and response.json()


def test_a_chunked_body_stops_being_read_at_the_limit(twin: Served):
    """Straight through the ASGI app (the test client reads a whole body before sending it): 200 MiB on
    offer, the server takes two chunks and answers."""
    pulled, sent = 0, []

    async def receive() -> dict:
        nonlocal pulled
        pulled += 1
        return {"type": "http.request", "body": b"x" * LIMIT, "more_body": pulled < 200}

    async def send(message: dict) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "POST",
        "scheme": "http",
        "path": "/auth/session",
        "raw_path": b"/auth/session",
        "root_path": "",
        "query_string": b"",
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 80),
        "headers": [
            (b"host", b"127.0.0.1"),
            (b"content-type", b"application/json"),
            (b"transfer-encoding", b"chunked"),
        ],
    }
    asyncio.run(twin.api(scope, receive, send))
    assert pulled == 2
    assert sent[0]["status"] == 413 and json.loads(sent[1]["body"])["detail"].startswith(
        "the request body is over"
    )


def test_a_422_names_the_field_without_echoing_the_input(twin: Served):
    long = "too long " * 500  # 4,500 characters: under the body limit, over the message's 4,000
    response = twin.client.post("/api/chat", json={"message": long}, headers=twin.headers("colleague_a"))
    assert response.status_code == 422
    assert len(response.content) < 500 and "too long" not in response.text
    [error] = response.json()["detail"]
    assert error["loc"] == ["body", "message"] and "4000" in error["msg"] and "input" not in error


def test_a_lone_surrogate_is_refused_before_sign_in_without_a_traceback(twin: Served, caplog):
    caplog.set_level(logging.DEBUG)
    response = twin.client.post(
        "/auth/session", content=b'{"token": "\\ud800"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 422
    [error] = response.json()["detail"]
    assert (error["type"], error["loc"]) == ("string_unicode", ["body", "token"]) and "input" not in error
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert "persona_session" not in response.cookies


def test_a_lone_surrogate_in_a_chat_message_is_refused_before_the_turn(twin: Served):
    response = twin.client.post(
        "/api/chat",
        content=b'{"message": "hello \\udc00"}',
        headers=twin.headers("colleague_a") | {"Content-Type": "application/json"},
    )
    assert response.status_code == 422 and response.json()["detail"][0]["type"] == "string_unicode"


def test_a_surrogate_pair_is_text_not_an_error(twin: Served):
    response = twin.client.post(
        "/auth/session", content=b'{"token": "\\ud83d\\ude00"}', headers={"Content-Type": "application/json"}
    )
    assert response.status_code == 401  # a valid emoji, just not a token


@pytest.mark.parametrize(
    "bad", ['working_hours:\n  start: "{long}"\n', "people:\n  - name: Sam\n    emails: [{long}]\n"]
)
def test_a_422_for_a_persona_edit_does_not_echo_a_long_value(twin: Served, bad: str):
    owner = twin.headers("owner")
    original = twin.client.get("/api/persona", headers=owner).json()["yaml"]
    response = twin.client.put(
        "/api/persona", json={"yaml": original + bad.format(long="x" * 100_000)}, headers=owner
    )
    assert response.status_code == 422 and len(response.content) < 500
