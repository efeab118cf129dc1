"""The real llama.cpp server with the packaged model: lifecycle, text, schema-constrained JSON, streaming."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time
from enum import StrEnum
from pathlib import Path

import httpx
import pytest
from langchain_core.messages import HumanMessage, SystemMessage
from pydantic import BaseModel

from persona.errors import LLMUnavailable
from persona.home import Home
from persona.llm.client import LLM
from persona.llm.server import LocalServer, ServerRecord, ensure_local_server
from persona.settings import Settings

pytestmark = pytest.mark.llm


class Colour(StrEnum):
    RED = "red"
    GREEN = "green"
    BLUE = "blue"


class ColourAnswer(BaseModel):
    colour: Colour


def test_a_second_server_object_reuses_the_running_one(
    local_server: LocalServer, local_model: Path, tmp_path: Path
) -> None:
    record = ServerRecord.model_validate_json(local_server.state_path.read_text())
    other = LocalServer(local_model, state_path=local_server.state_path, log_path=tmp_path / "unused.log")

    assert other.start() == local_server.base_url
    assert not other.owned
    other.stop()  # a reused server keeps running

    assert httpx.get(f"{local_server.base_url}/models", timeout=30).status_code == 200
    assert record.port == local_server.port
    assert not (tmp_path / "unused.log").exists()


def test_ensure_local_server_reuses_the_running_one(
    local_server: LocalServer, model_cache: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("PERSONA_MODEL_PATH", raising=False)

    assert ensure_local_server(Settings(), Home(tmp_path), cache_dir=model_cache) == local_server.base_url
    assert not (tmp_path / "logs" / "llama-server.log").exists()  # nothing was started


def test_a_server_for_another_model_is_not_reused_and_a_failed_start_shows_the_log(
    local_server: LocalServer, tmp_path: Path
) -> None:
    broken = tmp_path / "broken.gguf"
    broken.write_bytes(b"not a gguf file")
    server = LocalServer(
        broken, state_path=local_server.state_path, log_path=tmp_path / "llama.log", start_timeout=60
    )

    with pytest.raises(
        LLMUnavailable, match=r"the local LLM server exited while starting: .*\(log: .*llama.log\)"
    ):
        server.start()
    # the shared record still points at the healthy server
    assert ServerRecord.model_validate_json(local_server.state_path.read_text()).port == local_server.port


def test_start_and_stop_an_owned_server(local_model: Path, tmp_path: Path) -> None:
    server = LocalServer(local_model, state_path=tmp_path / "server.json", log_path=tmp_path / "llama.log")

    with server:
        assert server.owned
        pid = ServerRecord.model_validate_json((tmp_path / "server.json").read_text()).pid
        assert httpx.get(f"{server.base_url}/models", timeout=5).json()["data"][0]["id"] == str(local_model)
        port = server.port

    assert not (tmp_path / "server.json").exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{port}/v1/models", timeout=2)


def _gone(pid: int) -> bool:
    """Exited (a zombie counts: its memory is freed, only the parent that died could have reaped it)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] == "Z"
    except FileNotFoundError:
        return True


def test_a_server_whose_starter_was_killed_exits_within_its_idle_timeout(
    local_model: Path, tmp_path: Path
) -> None:
    idle = 3.0
    starter = subprocess.Popen(
        [
            sys.executable,
            "-c",
            (
                "import sys, time; from pathlib import Path; from persona.llm.server import LocalServer\n"
                f"s = LocalServer(Path({str(local_model)!r}), state_path=Path({str(tmp_path)!r}) / 'server.json',"
                f" log_path=Path({str(tmp_path)!r}) / 'llama.log', idle_timeout={idle})\n"
                "s.start(); print('up', flush=True); time.sleep(600)"
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    pid = 0
    try:
        assert starter.stdout is not None and starter.stdout.readline().strip() == "up"
        pid = ServerRecord.model_validate_json((tmp_path / "server.json").read_text()).pid
        time.sleep(idle + 2)
        assert not _gone(pid)  # idle past its timeout, but its starter still uses it

        starter.send_signal(signal.SIGKILL)
        starter.wait()
        killed = time.monotonic()
        while not _gone(pid) and time.monotonic() - killed < idle + 5:
            time.sleep(0.1)
        assert _gone(pid), "the orphaned server is still running"
        assert time.monotonic() - killed <= idle + 2  # its timeout plus one check interval
    finally:
        starter.kill()
        if pid and not _gone(pid):
            os.kill(pid, signal.SIGKILL)


def test_a_text_answer(real_llm: LLM) -> None:
    answer = real_llm.text(
        [SystemMessage("Answer with a single number."), HumanMessage("What is 2 + 3?")], max_tokens=8, tag="t"
    )

    assert "5" in answer
    usage = real_llm.usage["t"]
    assert usage.calls == 1 and usage.prompt_tokens > 10 and 0 < usage.completion_tokens <= 8


def test_a_json_answer_is_constrained_to_the_enum(real_llm: LLM) -> None:
    messages = [
        SystemMessage("You classify colours. Reply in JSON."),
        HumanMessage("What colour is a clear daytime sky?"),
    ]
    answer = real_llm.json(messages, ColourAnswer, max_tokens=20, tag="colour")

    assert answer.colour is Colour.BLUE
    # "yellow" is not allowed: the grammar makes the model pick one of the three
    banana = real_llm.json(
        [HumanMessage("What colour is a ripe banana? Reply in JSON.")], ColourAnswer, tag="colour"
    )
    assert banana.colour in set(Colour)
    assert real_llm.usage["colour"].calls == 2  # both valid at the first attempt


def test_streaming_yields_several_chunks(real_llm: LLM) -> None:
    async def collect() -> list[str]:
        return [c async for c in real_llm.astream("Count from one to five in words.", max_tokens=24, tag="s")]

    chunks = asyncio.run(collect())

    assert len(chunks) > 3
    assert "three" in "".join(chunks).lower()
    assert real_llm.usage["s"].calls == 1 and real_llm.usage["s"].completion_tokens >= len(chunks)


def test_a_request_from_elsewhere_does_not_cut_a_stream_short(
    real_llm: LLM, local_server: LocalServer
) -> None:
    async def stream_while_another_client_asks() -> list[str]:
        chunks: list[str] = []
        other: asyncio.Task | None = None
        async with httpx.AsyncClient(timeout=600) as client:
            prompt = "List the numbers from 1 to 60, separated by commas."
            async for chunk in real_llm.astream(prompt, max_tokens=24, tag="s"):
                chunks.append(chunk)
                if other is None:
                    other = asyncio.create_task(client.get(f"{local_server.base_url}/models"))
            assert other is not None and (await other).status_code == 200  # it waited its turn
        return chunks

    chunks = asyncio.run(stream_while_another_client_asks())

    assert len(chunks) >= 20  # not cut off after the other request arrived
