"""llama.cpp's programs built once into the cache, and the CPU dispatch that keeps one build portable."""

from __future__ import annotations

import shutil
import stat
import subprocess
from pathlib import Path

import pytest

from persona.errors import NotReady
from persona.llm import native
from persona.llm.native import NativeBuild, build_key, prepare_native


def fake_cmake(tmp_path: Path, body: str) -> str:
    script = tmp_path / "cmake"
    script.write_text("#!/bin/sh\n" + body)
    script.chmod(script.stat().st_mode | stat.S_IEXEC)
    return str(script)


def test_a_finished_build_is_found_without_building(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    folder = tmp_path / "llama.cpp" / build_key()
    folder.mkdir(parents=True)
    (folder / "built.ok").write_text("")
    monkeypatch.setattr(native, "_build_into", lambda *_: pytest.fail("built again"))

    assert prepare_native(tmp_path).server == folder / "llama-server"


def test_the_key_changes_with_the_build_options(monkeypatch: pytest.MonkeyPatch) -> None:
    before = build_key()
    monkeypatch.setattr(native, "CMAKE_ARGS", (*native.CMAKE_ARGS, "-DGGML_AVX512=OFF"))

    assert build_key() != before
    assert build_key().startswith("0.3.36-")


def test_the_build_reports_ninja_steps(tmp_path: Path) -> None:
    cmake = fake_cmake(
        tmp_path, 'echo "[1/3] Building A"; echo "warning: x"; echo "[2/3] B"; echo "[3/3] Linking"\n'
    )
    steps: list[tuple[int, int]] = []

    native._compile(
        cmake, tmp_path / "out", lambda done, total: steps.append((done, total)), tmp_path / "b.log"
    )

    assert steps == [(1, 3), (2, 3), (3, 3)]
    assert "warning: x" in (tmp_path / "b.log").read_text()


def test_a_failed_build_names_its_last_lines_and_keeps_the_log(tmp_path: Path) -> None:
    cmake = fake_cmake(tmp_path, 'echo "[1/9] Building A"; echo "error: no space left"; exit 1\n')

    with pytest.raises(NotReady, match=r"building llama.cpp failed: .*error: no space left \(log: .*b.log\)"):
        native._compile(cmake, tmp_path / "out", lambda *_: None, tmp_path / "b.log")


def test_without_cmake_the_error_says_what_to_install(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setattr(native.shutil, "which", lambda name, path=None: None)

    with pytest.raises(NotReady, match=r"needs cmake: pip install 'persona-twin\[local\]'"):
        native._build_tools()


# ---- the real build (`persona model prepare` made it, or this builds it once) ---------------------


@pytest.mark.llm
def test_one_build_holds_every_cpu_level_and_runs_on_a_cpu_without_avx512(
    local_model: Path, tmp_path: Path
) -> None:
    build = prepare_native()
    assert {"x64", "haswell", "skylakex", "icelake", "zen4"} <= set(build.cpu_variants())
    assert "sapphirerapids" not in build.cpu_variants()  # its AMX path dies with SIGILL (native.py)

    # A CPU without AVX-512 finds only the variants up to AVX2: copy the build without the others.
    older = NativeBuild(tmp_path / "avx2-only")
    shutil.copytree(build.folder, older.folder, symlinks=True)
    for variant in older._variants():
        if variant.name not in ("libggml-cpu-x64.so", "libggml-cpu-haswell.so"):
            variant.unlink()
    run = subprocess.run(
        [str(older.bench), "-m", str(local_model), "-p", "16", "-n", "4", "-r", "1", "-t", "1", "-o", "json"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )

    assert run.returncode == 0, run.stderr[-500:]
    assert "libggml-cpu-haswell.so" in run.stderr  # the best variant left was loaded, and ran
    assert '"avg_ts"' in run.stdout
