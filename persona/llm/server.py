"""The embedded llama.cpp server (`llama-server`, `persona.llm.native`): started on loopback when needed,
shared while it runs.

It outlives the command that started it, so the next command finds it warm (model loaded, persona
prefixes cached), and ends itself once no process uses it and it has been idle for a while
(`persona.llm.lifetime`)."""

from __future__ import annotations

import atexit
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import IO, Self

import httpx
from pydantic import BaseModel, ValidationError

from persona.errors import LLMUnavailable
from persona.home import Home
from persona.llm.lifetime import exclusively, hold_users_lock
from persona.llm.model_files import resolve_model
from persona.llm.native import prepare_native
from persona.settings import Settings, default_cache_dir

HOST = "127.0.0.1"


class ServerRecord(BaseModel):
    """What server.json remembers about a running server so another process can reuse it."""

    pid: int
    port: int
    model: str


class LocalServer:
    """One `python -m persona.llm.serve` process (and its `llama-server`) serving `model` on a free
    loopback port.

    A server someone else started for the same model (found through `state_path`, whose record
    names the model, and alive) is reused instead of starting a second one: it is stateless, so
    several homes can share it; requests queue. `stop()` ends only a server this object started;
    while started, this process counts as one of the server's users (see `persona.llm.lifetime`),
    and once none is left the server exits after `idle_timeout` seconds without requests.
    """

    def __init__(
        self,
        model: Path,
        *,
        state_path: Path,
        log_path: Path,
        threads: int | None = None,
        n_ctx: int = 4096,
        start_timeout: float = 180.0,
        idle_timeout: float = 900.0,
        cache_mib: int = 512,
    ) -> None:
        self.model = model
        self.state_path = state_path
        self.log_path = log_path
        self.threads = threads or os.cpu_count() or 1
        self.n_ctx = n_ctx
        self.start_timeout = start_timeout
        self.idle_timeout = idle_timeout
        self.cache_mib = cache_mib
        self.port: int | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._user: IO[bytes] | None = None

    @property
    def users_path(self) -> Path:
        return self.state_path.with_suffix(".users")

    @property
    def base_url(self) -> str:
        if self.port is None:
            raise RuntimeError("LocalServer.base_url read before start()")
        return f"http://{HOST}:{self.port}/v1"

    @property
    def owned(self) -> bool:
        """True when this object started the process (and so will stop it)."""
        return self._process is not None

    def start(self) -> str:
        """Reuse a healthy server for this model or start one; return the OpenAI base URL."""
        if self.port is not None:
            return self.base_url
        self.state_path.parent.mkdir(parents=True, exist_ok=True)
        self._user = self._user or hold_users_lock(
            self.users_path
        )  # before looking: a server never quits under us
        with exclusively(self.state_path.with_suffix(".lock")):
            record = self._running_record()
            if record is not None:
                self.port = record.port
                return self.base_url
            self._spawn()
            self.state_path.write_text(
                ServerRecord(pid=self._process.pid, port=self.port, model=str(self.model)).model_dump_json()
            )
        return self.base_url

    def release(self) -> None:
        """Stop counting as a user; the server lives on until it has been idle for `idle_timeout`."""
        user, self._user = self._user, None
        if user is not None:
            user.close()

    def stop(self) -> None:
        """Stop the server if this object started it; a reused server keeps running."""
        self.release()
        process, self._process = self._process, None
        if process is None:
            self.port = None
            return
        if process.poll() is None:
            process.send_signal(signal.SIGINT)  # uvicorn shuts down cleanly on SIGINT
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        self._forget(process.pid)
        self.port = None

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def program(self) -> Path:
        """llama-server: compiled before the first start (a long build, with a progress bar), found at once
        after that."""
        return prepare_native(progress=sys.stderr.isatty()).server

    def command(self, port: int) -> list[str]:
        return [
            sys.executable, "-m", "persona.llm.serve",
            "--program", str(self.program()),
            "--model", str(self.model),
            "--host", HOST,
            "--port", str(port),
            "--n-ctx", str(self.n_ctx),
            "--threads", str(self.threads),
            "--cache-mib", str(self.cache_mib),
            "--users", str(self.users_path),
            "--idle-timeout", str(self.idle_timeout),
        ]  # fmt: skip

    def _spawn(self) -> None:
        self.port = _free_port()
        command = self.command(self.port)  # before the clock starts: the first one may build llama.cpp
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("wb") as log:  # the log of the current server only: ~200 kB per start
            # Own session: a Ctrl-C in the terminal reaches us, and we stop the server in order.
            self._process = subprocess.Popen(
                command, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
            )
        deadline = time.monotonic() + self.start_timeout
        while not _serves(self.port, self.model):
            if self._process.poll() is not None:
                self._process, self.port = None, None
                raise LLMUnavailable(f"the local LLM server exited while starting: {self._log_tail()}")
            if time.monotonic() > deadline:
                self.stop()
                raise LLMUnavailable(
                    f"the local LLM server did not answer within {self.start_timeout:.0f}s: "
                    + self._log_tail()
                )
            time.sleep(0.25)

    def _running_record(self) -> ServerRecord | None:
        try:
            record = ServerRecord.model_validate_json(self.state_path.read_text())
        except (FileNotFoundError, ValidationError):
            return None
        if record.model != str(self.model) or not _alive(record.pid) or not _serves(record.port, self.model):
            return None
        return record

    def _forget(self, pid: int) -> None:
        """Drop server.json if it still describes the process we just stopped."""
        try:
            record = ServerRecord.model_validate_json(self.state_path.read_text())
        except (FileNotFoundError, ValidationError):
            return
        if record.pid == pid:
            self.state_path.unlink(missing_ok=True)

    def _log_tail(self, lines: int = 5) -> str:
        try:
            tail = self.log_path.read_text(errors="replace").strip().splitlines()[-lines:]
        except FileNotFoundError:
            return f"no log at {self.log_path}"
        return " | ".join(line.strip() for line in tail) + f" (log: {self.log_path})"


def ensure_local_server(settings: Settings, home: Home, cache_dir: Path | None = None) -> str:
    """Start (or reuse) the local server for the configured model; return its OpenAI base URL.

    This process uses the server until it exits; the server outlives it by `llm.idle_timeout` seconds.
    """
    cache = cache_dir or default_cache_dir()
    model = resolve_model(settings.llm.model_path, cache, progress=sys.stderr.isatty())
    server = LocalServer(
        model,
        state_path=cache / "server.json",
        log_path=home.logs_dir / "llama-server.log",
        threads=settings.llm.threads,
        idle_timeout=settings.llm.idle_timeout,
    )
    url = server.start()
    atexit.register(server.release)  # also keeps `server`, and so its users lock, alive until then
    return url


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # alive, owned by another user
    return True


def _serves(port: int, model: Path) -> bool:
    """True when a llama.cpp server on `port` has loaded `model` (it names the file, see serve.py; the
    list is answered at once, even while the server is generating)."""
    try:
        response = httpx.get(f"http://{HOST}:{port}/v1/models", timeout=2.0)
        ids = [entry["id"] for entry in response.json()["data"]]
    except (httpx.HTTPError, ValueError, KeyError, TypeError):
        return False
    return response.status_code == 200 and str(model) in ids
