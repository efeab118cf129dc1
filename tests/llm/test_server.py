"""LocalServer's reuse rules, checked against a stub that answers like a running llama.cpp server."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from llm_fakes import StubEndpoint

from persona.errors import LLMUnavailable
from persona.llm.server import LocalServer, ServerRecord


def record(path: Path, *, pid: int, port: int, model: Path) -> None:
    path.write_text(ServerRecord(pid=pid, port=port, model=str(model)).model_dump_json())


class FailingServer(LocalServer):
    """Starting one runs a process that fails at once, as llama.cpp does on a bad model file."""

    def command(self, port: int) -> list[str]:
        return [
            sys.executable,
            "-c",
            f"import sys; print('cannot load {self.model.name} on port {port}'); sys.exit(1)",
        ]


@pytest.fixture
def model(tmp_path: Path) -> Path:
    path = tmp_path / "model.gguf"
    path.write_bytes(b"not really a model")
    return path


def test_a_live_server_for_the_same_model_is_reused(
    stub_endpoint: StubEndpoint, model: Path, tmp_path: Path
) -> None:
    stub_endpoint.model_ids = [str(model)]
    record(tmp_path / "server.json", pid=os.getpid(), port=stub_endpoint.port, model=model)
    server = FailingServer(model, state_path=tmp_path / "server.json", log_path=tmp_path / "llama.log")

    assert server.start() == stub_endpoint.url
    assert not server.owned
    server.stop()
    assert (tmp_path / "server.json").exists()  # stopping a reused server leaves it and its record alone
    assert not (tmp_path / "llama.log").exists()


def dead_pid() -> int:
    process = subprocess.Popen([sys.executable, "-c", "pass"])
    process.wait()
    return process.pid


@pytest.mark.parametrize("case", ["another model", "process gone", "nothing listening", "model not loaded"])
def test_a_stale_record_is_not_reused(
    case: str, stub_endpoint: StubEndpoint, model: Path, tmp_path: Path
) -> None:
    pid, port, recorded = os.getpid(), stub_endpoint.port, model
    stub_endpoint.model_ids = [str(model)]
    if case == "another model":
        recorded = tmp_path / "other.gguf"
    elif case == "process gone":
        pid = dead_pid()
    elif case == "nothing listening":
        port = 9  # discard port: nothing answers HTTP there
    else:
        stub_endpoint.model_ids = [str(tmp_path / "other.gguf")]  # a server that serves another file
    record(tmp_path / "server.json", pid=pid, port=port, model=recorded)
    server = FailingServer(model, state_path=tmp_path / "server.json", log_path=tmp_path / "llama.log")

    # Not reused, so it starts its own server, whose failure is reported with the log's tail.
    expected = r"^the local LLM server exited while starting: cannot load model.gguf on port \d+ \(log: .*\)$"
    with pytest.raises(LLMUnavailable, match=expected):
        server.start()
    assert not server.owned
    with pytest.raises(RuntimeError, match="before start"):
        _ = server.base_url
