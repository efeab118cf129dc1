"""The OpenVINO encoder against sentence-transformers on the real packaged model."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from sentence_transformers import SentenceTransformer

from persona.memory.embedding import Embedder, SentenceTransformerEncoder, packaged_model_path
from persona.memory.onnx_encoder import OnnxEncoder, export_path, query_path, read_layout
from persona.settings import Settings

TEXTS = [
    "When is the team offsite?",
    "",
    "Grüße aus Köln — 日本語のテキスト, émojis 🙂 and numbers 148,500",
    "word " * 600,  # longer than the model's 256 tokens: truncated the same way
    *(f"Status update {i}: " + "the migration is on track " * i for i in range(1, 40, 3)),
]


# how far a vector may be from torch's: float32 reproduces it; bfloat16 (CPUs with AMX or AVX512-BF16)
# rounds every product, and a text padded in a batch is rounded a little differently than alone
TOLERANCE = {"f32": 1e-5, "bf16": 3e-3}


def test_onnx_vectors_equal_sentence_transformers(real_embedder: Embedder) -> None:
    embedder = real_embedder
    assert isinstance(embedder.encoder, OnnxEncoder)
    tolerance = TOLERANCE[embedder.encoder.precision]
    reference = SentenceTransformer(str(embedder.path), device="cpu").encode(TEXTS, normalize_embeddings=True)
    got = np.array(embedder.embed(TEXTS))
    assert got.shape == reference.shape == (len(TEXTS), 384)
    assert np.abs(got - reference).max() < tolerance
    assert (got * reference).sum(1).min() > 0.9999  # cosine: the same place in the space
    # batching by length must not change a text's vector, nor the order of the answers
    alone = np.array([embedder.embed([t])[0] for t in TEXTS])
    assert np.abs(alone - got).max() < tolerance
    # small batches run side by side on the cores; every vector still lands in its text's row
    assert np.abs(embedder.encoder.encode(TEXTS, 3) - reference).max() < tolerance
    # a question runs on the int8 copy: close to the documents' model, not equal
    questions = np.array([embedder.encoder.encode_query(t) for t in TEXTS])
    assert 0.97 < (questions * alone).sum(1).min() < 1 - 1e-6
    assert embedder.count_tokens("hello world") == 4  # [CLS] hello world [SEP]


def _copy_model(tmp_path: Path) -> Path:
    model = tmp_path / "model"
    shutil.copytree(packaged_model_path(), model)
    return model


def test_export_is_kept_and_redone_when_the_model_changes(tmp_path: Path) -> None:
    model, cache = _copy_model(tmp_path), tmp_path / "cache"
    first = OnnxEncoder.load(model, cache)
    assert first is not None
    onnx_file = export_path(model, cache)
    written = onnx_file.stat().st_mtime_ns
    compiled = sorted((cache / "openvino").rglob("*"))
    assert compiled  # OpenVINO's compiled model, kept for the next start
    assert OnnxEncoder.load(model, cache) is not None
    assert onnx_file.stat().st_mtime_ns == written  # reused, not exported again
    assert sorted((cache / "openvino").rglob("*")) == compiled  # and the compiled model too
    # the export and its int8 copy for questions, no partial files
    written_files = sorted(p.name for p in (cache / "embedding").iterdir())
    assert written_files == [onnx_file.name, query_path(onnx_file).name]
    another_folders = cache / "embedding" / f"model-00000000-{'0' * 16}.onnx"
    another_folders.write_bytes(b"")
    (model / "sentence_bert_config.json").write_text(json.dumps({"max_seq_length": 128}))
    assert export_path(model, cache) != onnx_file
    assert OnnxEncoder.load(model, cache) is not None
    # the changed folder's new export replaces its old one; another folder's is left alone
    kept = export_path(model, cache)
    assert sorted((cache / "embedding").iterdir()) == sorted([kept, query_path(kept), another_folders])


def test_a_failed_int8_copy_leaves_questions_on_the_full_model(tmp_path: Path, monkeypatch, caplog) -> None:
    def broken_quantize(export: Path, target: Path) -> None:
        raise RuntimeError("no quantizer here")

    monkeypatch.setattr("persona.memory.onnx_encoder.quantize", broken_quantize)
    encoder = OnnxEncoder.load(packaged_model_path(), tmp_path / "cache")
    assert encoder is not None
    assert np.abs(encoder.encode_query(TEXTS[0]) - encoder.encode(TEXTS[:1], 1)[0]).max() < 1e-6
    assert "int8 copy failed" in caplog.text


def test_an_unusual_layout_runs_on_sentence_transformers(tmp_path: Path) -> None:
    model = _copy_model(tmp_path)
    pooling = model / "1_Pooling" / "config.json"
    config = json.loads(pooling.read_text())
    config |= {"pooling_mode_mean_tokens": False, "pooling_mode_max_tokens": True}
    pooling.write_text(json.dumps(config))
    assert read_layout(model) is None
    embedder = Embedder(Settings(embedding_model=str(model)), cache_dir=tmp_path / "cache")
    assert isinstance(embedder.encoder, SentenceTransformerEncoder)
    (vector,) = embedder.embed(["max pooling"])
    assert len(vector) == embedder.dim == 384
    assert abs(float(np.linalg.norm(vector)) - 1) < 1e-5
    assert not (tmp_path / "cache").exists()


def test_a_failed_export_falls_back_to_sentence_transformers(tmp_path: Path, monkeypatch, caplog) -> None:
    def broken_export(model: Path, target: Path) -> None:
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_bytes(b"not an onnx file")  # as a foreign or damaged file in the cache would be

    monkeypatch.setattr("persona.memory.onnx_encoder.export", broken_export)
    embedder = Embedder(Settings(), cache_dir=tmp_path / "cache")
    assert isinstance(embedder.encoder, SentenceTransformerEncoder)
    assert len(embedder.embed(["still embeds"])[0]) == 384
    assert "ONNX export failed" in caplog.text


@pytest.mark.parametrize("broken", ["modules.json", "tokenizer.json"])
def test_a_folder_without_its_parts_is_not_exported(tmp_path: Path, broken: str) -> None:
    model = _copy_model(tmp_path)
    (model / broken).unlink()
    assert read_layout(model) is None
