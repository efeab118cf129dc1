"""What `pip install .` gives: the twin's commands run without the tooling extras (bench, evals), the
tooling commands name the extra they need, and the wheel carries the data the commands read."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
RUNNER = Path(__file__).with_name("without_extras.py")


def without_extras(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {
        **os.environ,
        "PERSONA_HOME": str(home),
        "COLUMNS": "200",
        "PERSONA_LLM_BASE_URL": "http://127.0.0.1:9/v1",
    }  # nothing listens: no model server is started
    return subprocess.run(
        [sys.executable, str(RUNNER), *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
        check=False,
    )


def ran(proc: subprocess.CompletedProcess[str]) -> str:
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "tried:" not in proc.stderr, proc.stderr  # not even an import that failed and was caught
    return proc.stdout


def test_the_twins_commands_run_without_benchmark_or_plotting_libraries(tmp_path: Path):
    home = tmp_path / "home"
    ran(without_extras(home, "persona", "init", "--name", "Ada Lovelace", "--email", "ada@example.com"))
    notes = tmp_path / "notes"
    notes.mkdir()
    (notes / "plan.md").write_text("# Plan\nThe engine review is on Friday with Charles.\n")
    assert "chunks added" in ran(without_extras(home, "persona", "ingest", str(notes), "--audience", "team"))
    assert "No new mail." in ran(without_extras(home, "persona", "inbox"))
    out = ran(without_extras(home, "twin", str(home)))
    assert "ask: The engine review is on Friday." in out
    assert "inbox: 0 mails" in out and "serve: FastAPI" in out


@pytest.mark.parametrize(("command", "extra"), [(["bench", "--quick"], "bench"), (["eval", "all"], "evals")])
def test_a_tooling_command_names_the_extra_it_needs(tmp_path: Path, command: list[str], extra: str):
    home = tmp_path / "home"
    ran(without_extras(home, "persona", "init", "--name", "Ada Lovelace", "--email", "ada@example.com"))
    proc = without_extras(home, "persona", *command)
    assert proc.returncode == 1 and "Traceback" not in proc.stderr
    lines = [line for line in proc.stderr.splitlines() if not line.startswith("tried:")]
    assert len(lines) == 1 and f"pip install 'persona-twin[{extra}]'" in lines[0], proc.stderr


def test_the_wheel_carries_the_data_the_commands_read(tmp_path: Path):
    source = tmp_path / "src"  # a copy: building in the checkout would leave build/ behind in it
    skip = shutil.ignore_patterns("__pycache__", "*.egg-info")
    for part in ("persona", "configs", "evals"):
        shutil.copytree(ROOT / part, source / part, symlinks=True, ignore=skip)
    for name in ("pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, source / name)
    subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "wheel",
            "--no-deps",
            "--no-build-isolation",
            "--quiet",
            "--wheel-dir",
            str(tmp_path / "dist"),
            str(source),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    (wheel,) = (tmp_path / "dist").glob("persona_twin-*.whl")
    with zipfile.ZipFile(wheel) as archive:
        names = set(archive.namelist())
        metadata = archive.read(next(n for n in names if n.endswith(".dist-info/METADATA"))).decode()
    for read in (
        "persona/data/demo/persona.yaml",
        "persona/data/demo/questions.yaml",
        "persona/data/demo/requests.yaml",
        "persona/data/demo/calendar.ics",
        "persona/data/evals/scheduling/dataset.json",
        "persona/data/evals/privacy/probes.yaml",
        "persona/data/evals/delegation/cases.yaml",
        "persona/server/templates/base.html",
    ):
        assert read in names, read
    demo_files = {
        p.relative_to(ROOT / "configs").as_posix()
        for p in (ROOT / "configs" / "demo").rglob("*")
        if p.is_file()
    }
    assert {f"persona/data/{f}" for f in demo_files} <= names  # the whole corpus and inbox, not a part
    requires = [line for line in metadata.splitlines() if line.startswith("Requires-Dist:")]
    for tooling, extra in (("aiohttp", "bench"), ("chroma-hnswlib", "bench"), ("matplotlib", "evals")):
        (line,) = [r for r in requires if r.split()[1].startswith(tooling)]
        assert f'extra == "{extra}"' in line

    installed = tmp_path / "site"  # the wheel unpacked is the package as pip installs it, with no checkout
    with zipfile.ZipFile(wheel) as archive:
        archive.extractall(installed)
    defaults = (
        "persona.cli.demo:DEFAULT_DATA",
        "persona.cli.evals:DEFAULT_SCHEDULING",
        "persona.cli.evals:DEFAULT_DELEGATION",
        "persona.evals.privacy:DEFAULT_PROBES",
    )
    script = (
        f"import sys; sys.path.insert(0, {str(installed)!r}); import importlib\n"
        f"for name in {defaults!r}:\n"
        "    module, attr = name.split(':'); path = getattr(importlib.import_module(module), attr)\n"
        "    print(path.resolve(), path.exists())\n"
    )
    shown = subprocess.run(
        [sys.executable, "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True, timeout=120
    ).stdout.splitlines()
    assert len(shown) == 4 and all(
        line.startswith(str(installed)) and line.endswith(" True") for line in shown
    )
