"""Fixtures for the LLM layer: fake model parts, a stub OpenAI endpoint, the real local server."""

from __future__ import annotations

import hashlib
import json
import threading
import uuid
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from llm_fakes import FakeParts, StubEndpoint

from persona.llm.model_files import ModelSpec


@pytest.fixture
def fake_parts(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> FakeParts:
    """Three installed-looking packages holding data/partNN.bin, importable from a temp dir."""
    prefix = f"fakemodel_{uuid.uuid4().hex[:8]}_part"
    root = tmp_path / "site"
    contents = [bytes([n]) * (1000 + n) + f"part {n}".encode() for n in (1, 2, 3)]
    for n, data in enumerate(contents, start=1):
        package = root / f"{prefix}{n}"
        (package / "data").mkdir(parents=True)
        (package / "__init__.py").write_text("")
        (package / "data" / f"part{n:02d}.bin").write_bytes(data)
    monkeypatch.syspath_prepend(str(root))
    joined = b"".join(contents)
    spec = ModelSpec(
        filename="fake.gguf",
        package_prefix=prefix,
        part_count=3,
        size=len(joined),
        sha256=hashlib.sha256(joined).hexdigest(),
    )
    return FakeParts(spec=spec, root=root, contents=contents)


# ---- a stub OpenAI-compatible endpoint ---------------------------------------------------


@pytest.fixture
def stub_endpoint() -> Iterator[StubEndpoint]:
    stub = StubEndpoint(url="")

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"  # keeps connections open, as real servers do

        def do_GET(self) -> None:
            models = [{"id": m, "object": "model"} for m in stub.model_ids]
            self._send(200, {"object": "list", "data": models})

        def do_POST(self) -> None:
            body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
            stub.requests.append(body)
            self._send(*stub.answers.pop(0)(body))

        def _send(self, status: int, payload: dict) -> None:
            data = json.dumps(payload).encode()
            try:
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up waiting: that is what the timeout test wants

        def log_message(self, *args: object) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    server.daemon_threads = True
    stub.port = server.server_address[1]
    stub.url = f"http://127.0.0.1:{stub.port}/v1"
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield stub
    server.shutdown()
    server.server_close()
