"""llama.cpp's own programs (`llama-server`, `llama-bench`), built once from pinned source into the cache.

One build runs at the best speed of whatever CPU it lands on, as llama.cpp's release builds do: ggml's
CPU backend is compiled once per instruction-set level (`GGML_BACKEND_DL` + `GGML_CPU_ALL_VARIANTS`)
and the best variant this CPU supports is loaded at start. So the build is never tuned to the machine
that compiled it, and a cached build stays valid on another CPU.

The source is the llama.cpp tree vendored in llama-cpp-python's sdist on PyPI (llama.cpp publishes no
source package there), pinned by its sha256 like the model. It is fetched directly: `pip download`
would first set up a build environment for the Python package, minutes spent on nothing used here.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

from persona.errors import NotReady
from persona.llm.lifetime import exclusively
from persona.settings import default_cache_dir

SOURCE = "llama-cpp-python==0.3.36"
SOURCE_URL = (
    "https://files.pythonhosted.org/packages/ec/e9/e7de2b0463ea3ffbf0ede6cb21b58c1258a8f6521aae45ca773a59fe7cf3/"
    "llama_cpp_python-0.3.36.tar.gz"
)
SOURCE_SHA256 = "832db0699007f1be95a7e41ef12e88926b02ba836461e36a36372db2760c1a2e"
PROGRAMS = ("llama-server", "llama-bench")
CMAKE_ARGS = (
    "-DCMAKE_BUILD_TYPE=Release",
    "-DBUILD_SHARED_LIBS=ON",
    "-DGGML_BACKEND_DL=ON",
    "-DGGML_CPU_ALL_VARIANTS=ON",
    "-DGGML_NATIVE=OFF",
    # the libraries sit beside the programs; $ORIGIN lets the folder move into the cache
    "-DCMAKE_BUILD_WITH_INSTALL_RPATH=ON",
    "-DCMAKE_INSTALL_RPATH=$ORIGIN",
    "-DLLAMA_BUILD_TESTS=OFF",
    "-DLLAMA_BUILD_EXAMPLES=OFF",
    "-DLLAMA_BUILD_APP=OFF",
    "-DLLAMA_BUILD_UI=OFF",  # the server's web page: never shown, and its prebuilt copy is a download
    "-DLLAMA_USE_PREBUILT_UI=OFF",
    "-DLLAMA_OPENSSL=OFF",  # loopback only
)
# llama.cpp's AMX code configures its tiles on the main thread only, so on Linux its worker threads die
# with SIGILL at the first tile instruction on an AMX CPU (llama.cpp PR #26954, open). Without this
# variant such a CPU loads the best AVX-512 one (zen4 or icelake), which runs.
_BROKEN_VARIANTS = ("libggml-cpu-sapphirerapids.so",)
_STAMP = "built.ok"
_STEP = re.compile(r"^\[(\d+)/(\d+)\]")  # ninja's "[12/463] Building …"

Step = Callable[[int, int], None]


@dataclass(frozen=True)
class NativeBuild:
    """A finished build: the programs and the libraries they load, in one folder."""

    folder: Path

    @property
    def server(self) -> Path:
        return self.folder / "llama-server"

    @property
    def bench(self) -> Path:
        return self.folder / "llama-bench"

    def cpu_variants(self) -> list[str]:
        """The CPU backend variants this build holds (haswell, skylakex, zen4 …)."""
        return sorted(p.name.removeprefix("libggml-cpu-").removesuffix(".so") for p in self._variants())

    def _variants(self) -> Iterator[Path]:
        return self.folder.glob("libggml-cpu-*.so")


def build_key() -> str:
    """Names the build by its source and options: another pin or option builds anew beside the old one."""
    digest = hashlib.sha256("\n".join((SOURCE, *CMAKE_ARGS)).encode()).hexdigest()[:10]
    return f"{SOURCE.split('==')[1]}-{digest}"


def prepare_native(cache_dir: Path | None = None, progress: bool = False) -> NativeBuild:
    """Return the build, compiling it first if needed (once per cache; ~20 min on two cores).

    Two processes asking at once build once: the second waits for the first."""
    root = (cache_dir or default_cache_dir()) / "llama.cpp"
    build = NativeBuild(root / build_key())
    if (build.folder / _STAMP).is_file():
        return build
    root.mkdir(parents=True, exist_ok=True)
    with exclusively(root / ".build.lock"):
        if not (build.folder / _STAMP).is_file():
            _build_into(build.folder, progress)
    return build


def _build_into(target: Path, progress: bool) -> None:
    tools = _build_tools()
    log = target.parent / "build.log"  # kept: the last build's whole output, for a failed one
    log.write_text("")
    with tempfile.TemporaryDirectory(dir=target.parent, prefix=".building-") as tmp:
        work = Path(tmp)
        source = _fetch_source(work)
        out = work / "build"
        generator = ["-G", "Ninja"] if "ninja" in tools else []
        _run([tools["cmake"], "-S", str(source), "-B", str(out), *generator, *CMAKE_ARGS], log)
        with _progress_bar(progress) as step:
            _compile(tools["cmake"], out, step, log)
        for broken in _BROKEN_VARIANTS:
            (out / "bin" / broken).unlink(missing_ok=True)
        shutil.rmtree(target, ignore_errors=True)
        (out / "bin").rename(target)
    (target / _STAMP).write_text(SOURCE + "\n" + "\n".join(CMAKE_ARGS) + "\n")


def _build_tools() -> dict[str, str]:
    """cmake (and ninja when present): the venv's own (PyPI's `cmake` and `ninja`) before the system's."""
    path = os.pathsep.join([str(Path(sys.executable).parent), os.environ.get("PATH", "")])
    found = {name: shutil.which(name, path=path) for name in ("cmake", "ninja")}
    if not found["cmake"]:
        raise NotReady("building llama.cpp needs cmake: pip install 'persona-twin[local]' (or install cmake)")
    if not (shutil.which("c++", path=path) or shutil.which("g++", path=path)):
        raise NotReady("building llama.cpp needs a C++ compiler (Debian: apt install build-essential)")
    return {name: tool for name, tool in found.items() if tool}


def _fetch_source(work: Path) -> Path:
    """Download the pinned sdist, check its sha256 and unpack its llama.cpp tree."""
    archive, digest = work / "source.tar.gz", hashlib.sha256()
    try:
        with (
            httpx.stream("GET", SOURCE_URL, follow_redirects=True, timeout=60) as response,
            archive.open("wb") as out,
        ):
            response.raise_for_status()
            for chunk in response.iter_bytes(1 << 20):
                out.write(chunk)
                digest.update(chunk)
    except httpx.HTTPError as exc:
        raise NotReady(f"could not download llama.cpp's source ({SOURCE_URL}): {exc}") from None
    if digest.hexdigest() != SOURCE_SHA256:
        raise NotReady(f"llama.cpp's source from {SOURCE_URL} is not the pinned file (sha256 differs)")
    with tarfile.open(archive) as tar:
        tar.extractall(work / "src", filter="data")
    (source,) = (work / "src").glob("*/vendor/llama.cpp")
    return source


def _compile(cmake: str, out: Path, step: Step, log_path: Path) -> None:
    command = [cmake, "--build", str(out), "--parallel", str(os.cpu_count() or 1), "--target", *PROGRAMS]
    with (
        log_path.open("a") as log,
        subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True) as process,
    ):
        assert process.stdout is not None
        for line in process.stdout:
            log.write(line)
            if match := _STEP.match(line):
                step(int(match[1]), int(match[2]))
    if process.returncode:
        raise NotReady(f"building llama.cpp failed: {_tail(log_path)}")


def _run(command: list[str], log_path: Path) -> None:
    with log_path.open("a") as log:
        if subprocess.run(command, stdout=log, stderr=subprocess.STDOUT, check=False).returncode:
            raise NotReady(f"building llama.cpp failed at `{Path(command[0]).name}`: {_tail(log_path)}")


def _tail(log_path: Path, lines: int = 3) -> str:
    tail = log_path.read_text(errors="replace").strip().splitlines()[-lines:]
    return " | ".join(line.strip() for line in tail) + f" (log: {log_path})"


@contextlib.contextmanager
def _progress_bar(enabled: bool) -> Iterator[Step]:
    if not enabled:
        yield lambda _done, _total: None
        return
    columns = (TextColumn("building llama.cpp"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("build", total=None)
        yield lambda done, total: bar.update(task, completed=done, total=total)
