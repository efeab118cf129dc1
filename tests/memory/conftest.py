from __future__ import annotations

import shutil
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from ci import free_port
from fake_embedder import HashedWordsEmbedder

from persona.home import Home
from persona.memory.embedding import Embedder
from persona.memory.store import MemoryStore
from persona.profile import Owner, Profile
from persona.settings import Settings


@pytest.fixture(scope="session")
def real_embedder() -> Embedder:
    """The real packaged model, loaded once for the whole session (loading takes seconds): for the tests of
    what it brings (its vectors, retrieval quality)."""
    return Embedder(Settings(embedding_model=None, chroma_url=None))


@pytest.fixture(scope="session")
def embedder() -> HashedWordsEmbedder:
    """What the memory tests embed with: hashed words, no model to load."""
    return HashedWordsEmbedder()


@pytest.fixture
def home(tmp_path: Path) -> Home:
    return Home(tmp_path / "home").ensure()


@pytest.fixture
def store(home: Home, embedder: Embedder) -> Iterator[MemoryStore]:
    yield MemoryStore(home, Settings(embedding_model=None, chroma_url=None), embedder)


@pytest.fixture
def owner() -> Profile:
    return Profile(owner=Owner(name="Dana Reyes", emails=["dana@example.com", "dana.reyes@home.example"]))


@pytest.fixture
def chroma_server(tmp_path: Path) -> Iterator[str]:
    """A real Chroma server (the `chroma` binary shipped in the chromadb wheel) on loopback."""
    binary = shutil.which("chroma", path=str(Path(sys.executable).parent))
    assert binary, "the chromadb wheel ships a `chroma` binary next to the interpreter"
    port = free_port()
    proc = subprocess.Popen(
        [binary, "run", "--path", str(tmp_path / "server-data"), "--host", "127.0.0.1", "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                if httpx.get(f"{url}/api/v2/heartbeat", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert proc.poll() is None and time.monotonic() < deadline, "chroma server did not start"
            time.sleep(0.2)
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=10)
