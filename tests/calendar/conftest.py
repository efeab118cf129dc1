"""A real Radicale CalDAV server on a free loopback port, with its storage in a temp folder."""

from __future__ import annotations

import importlib.util
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from ci import free_port, need


@pytest.fixture
def radicale(tmp_path: Path) -> Iterator[str]:
    need(importlib.util.find_spec("radicale") is not None, "Radicale is not installed (pip install radicale)")
    port = free_port()
    config = tmp_path / "radicale.conf"
    config.write_text(
        f"[server]\nhosts = 127.0.0.1:{port}\n[auth]\ntype = none\n"
        f"[storage]\nfilesystem_folder = {tmp_path / 'collections'}\n[rights]\ntype = owner_only\n"
        "[logging]\nlevel = warning\n",
        encoding="utf-8",
    )
    log = (tmp_path / "radicale.log").open("w")
    server = subprocess.Popen(
        [sys.executable, "-m", "radicale", "--config", str(config)], stdout=log, stderr=log
    )
    try:
        deadline = time.monotonic() + 20
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if server.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(
                        f"Radicale did not start: {(tmp_path / 'radicale.log').read_text()}"
                    ) from None
                time.sleep(0.1)  # waiting for a real server process to listen, not for time to pass
        yield f"http://127.0.0.1:{port}/"
    finally:
        server.terminate()
        server.wait(timeout=10)
        log.close()
