"""A sentence-transformers model run on OpenVINO: the transformer exported once to ONNX, pooling in numpy.

Eager torch spends most of a short text's time in per-operator overhead, and in float32 everywhere.
OpenVINO runs the exported graph at the CPU's own best precision: bfloat16 on CPUs with AMX or
AVX512-BF16, where a batch of ~100-token chunks embeds ~5x faster than ONNX Runtime in float32 with
vectors within 1e-4 (cosine) of torch's; float32 elsewhere, equal to torch's within 1e-6 and still
~1.7x faster. Documents and questions run on the same model, so they always share one space. A request
uses one thread: splitting one short question over two cores saves little time and costs CPU that
concurrent chat turns need; a long list of texts instead runs its batches side by side, one stream per
core. The export needs torch (loaded only then); the .onnx file is kept in the cache dir, keyed by the
model folder's files, so later starts import neither torch nor transformers.

Only the common layout is handled: Transformer -> Pooling (mean or CLS) -> optional Normalize, with a
tokenizer.json; vectors always leave at unit length. `OnnxEncoder.load` returns None for anything else,
and the caller runs the model on sentence-transformers itself.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import warnings
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

import numpy as np

if TYPE_CHECKING:
    from tokenizers import Encoding

_FORMAT = "1"  # bump when the export changes, so older cached files are not reused
_TRANSFORMER = "sentence_transformers.models.Transformer"
_POOLING = "sentence_transformers.models.Pooling"
_NORMALIZE = "sentence_transformers.models.Normalize"
_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Layout:
    pooling: Literal["mean", "cls"]
    max_tokens: int
    dim: int


def read_layout(model: Path) -> Layout | None:
    """The folder's module chain, if it is one this encoder reproduces exactly."""
    try:
        modules = json.loads((model / "modules.json").read_text())
        types = [m["type"] for m in modules]
        if types not in ([_TRANSFORMER, _POOLING], [_TRANSFORMER, _POOLING, _NORMALIZE]):
            return None
        if modules[0].get("path", "") or not (model / "tokenizer.json").exists():
            return None
        pooling = json.loads((model / modules[1]["path"] / "config.json").read_text())
        modes = [k for k, v in pooling.items() if k.startswith("pooling_mode_") and v]
        if modes not in (["pooling_mode_mean_tokens"], ["pooling_mode_cls_token"]):
            return None
        config = model / "sentence_bert_config.json"
        max_tokens = json.loads(config.read_text()).get("max_seq_length") if config.exists() else None
    except (OSError, ValueError, KeyError, IndexError, TypeError):
        return None
    return Layout(
        pooling="mean" if modes == ["pooling_mode_mean_tokens"] else "cls",
        max_tokens=int(max_tokens or 512),
        dim=int(pooling["word_embedding_dimension"]),
    )


def export_path(model: Path, cache_dir: Path) -> Path:
    """Where the export of this exact model folder is kept: named by the folder's place, then by its
    files, so any changed file gives a new name and the folder's earlier exports can be found."""
    digest = hashlib.sha256(_FORMAT.encode())
    for file in sorted(p for p in model.rglob("*") if p.is_file()):
        stat = file.stat()
        digest.update(f"{file.relative_to(model)}\0{stat.st_size}\0{stat.st_mtime_ns}\0".encode())
    return cache_dir / "embedding" / f"{_folder_prefix(model)}{digest.hexdigest()[:16]}.onnx"


def _folder_prefix(model: Path) -> str:
    return f"{model.name}-{hashlib.sha256(str(model.resolve()).encode()).hexdigest()[:8]}-"


def _remove_earlier_exports(model: Path, kept: Path) -> None:
    """A reinstalled or changed model folder is exported anew; its older exports (~90 MB each) go, and
    so do the int8 copies that questions ran on before (ONNX Runtime)."""
    for old in kept.parent.glob(f"{_folder_prefix(model)}*.onnx"):
        if old != kept:
            old.unlink(missing_ok=True)


def export(model: Path, target: Path) -> None:
    """Trace the folder's transformer to ONNX (a few seconds, once). Written beside and renamed, so a
    process that is cut off or a second one exporting at the same time never leaves half a file."""
    import torch
    from transformers import AutoModel, AutoTokenizer

    tokenizer = AutoTokenizer.from_pretrained(str(model))
    network = AutoModel.from_pretrained(str(model)).eval()
    names = list(tokenizer.model_input_names)

    class LastHidden(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.network = network

        def forward(self, *inputs: torch.Tensor) -> torch.Tensor:
            return self.network(**dict(zip(names, inputs))).last_hidden_state

    texts = ["a short sample", "and a second, longer sample text"]
    sample = tokenizer(texts, padding=True, return_tensors="pt")
    axes = {name: {0: "batch", 1: "tokens"} for name in [*names, "hidden"]}
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_suffix(f".{os.getpid()}.partial")
    # the tracer warns about branches on shapes; the padded two-text sample takes the ones every input takes
    with torch.inference_mode(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            LastHidden(),
            tuple(sample[n] for n in names),
            str(partial),
            input_names=names,
            output_names=["hidden"],
            dynamic_axes=axes,
            opset_version=17,
            dynamo=False,
        )
    partial.replace(target)


class OnnxEncoder:
    def __init__(self, onnx_file: Path, tokenizer_file: Path, layout: Layout) -> None:
        import openvino
        from tokenizers import Tokenizer

        self.layout = layout
        self.streams = os.cpu_count() or 1
        # one stream (one thread) per core; no pinning: the cores are shared with the model server
        self._model = openvino.Core().compile_model(
            str(onnx_file),
            "CPU",
            {
                "PERFORMANCE_HINT": "THROUGHPUT",
                "NUM_STREAMS": self.streams,
                "INFERENCE_NUM_THREADS": self.streams,
                "ENABLE_CPU_PINNING": False,
            },
        )
        self._inputs = [i.get_any_name() for i in self._model.inputs]
        self.tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self.tokenizer.enable_truncation(layout.max_tokens)
        self.tokenizer.no_padding()
        pad_token = _pad_token(tokenizer_file.parent)
        self._pad_id = (self.tokenizer.token_to_id(pad_token) if pad_token else None) or 0

    @property
    def precision(self) -> str:
        """The precision OpenVINO chose for this CPU: bf16 where it has native bfloat16, else f32."""
        return str(self._model.get_property("INFERENCE_PRECISION_HINT").to_string())

    @classmethod
    def load(cls, model: Path, cache_dir: Path) -> OnnxEncoder | None:
        """The encoder for a model folder, exporting it first if needed; None if the layout is not one
        this encoder reproduces."""
        layout = read_layout(model)
        if layout is None:
            return None
        onnx_file = export_path(model, cache_dir)
        try:
            if not onnx_file.exists():
                export(model, onnx_file)
            _remove_earlier_exports(model, onnx_file)
            return cls(onnx_file, model / "tokenizer.json", layout)
        except Exception as exc:  # noqa: BLE001 - any failure here only costs speed, never the answer
            _log.warning(
                "embedding model %s runs on sentence-transformers: its ONNX export failed (%s); "
                "delete %s to export it again",
                model,
                exc,
                onnx_file,
            )
            return None

    @property
    def dim(self) -> int:
        return self.layout.dim

    def count_tokens(self, text: str) -> int:
        return len(self.tokenizer.encode(text).ids)

    def encode(self, texts: list[str], batch_size: int) -> np.ndarray:
        """One vector per text, in order. Texts are batched by token length, so little padding is run;
        batches run in parallel, one per stream (OpenVINO releases the GIL)."""
        encodings = self.tokenizer.encode_batch(texts)
        order = sorted(range(len(texts)), key=lambda i: len(encodings[i].ids))
        vectors = np.empty((len(texts), self.layout.dim), dtype=np.float32)
        batches = [order[start : start + batch_size] for start in range(0, len(order), batch_size)]

        def run(rows: list[int]) -> None:
            vectors[rows] = self._pooled([encodings[i] for i in rows])

        if len(batches) == 1:
            run(batches[0])
        elif batches:
            with ThreadPoolExecutor(min(len(batches), self.streams)) as pool:
                list(pool.map(run, batches))
        return vectors

    def encode_query(self, text: str) -> np.ndarray:
        return self._pooled([self.tokenizer.encode(text)])[0]

    def _pooled(self, batch: list[Encoding]) -> np.ndarray:
        """One batch through the network, padded to its longest text: a unit-length vector per text."""
        width = max(len(e.ids) for e in batch)
        mask = np.zeros((len(batch), width), dtype=np.int64)
        feeds = {name: np.zeros((len(batch), width), dtype=np.int64) for name in self._inputs}
        if "input_ids" in feeds:  # some models derive positions from where the padding is
            feeds["input_ids"][:] = self._pad_id
        for row, e in enumerate(batch):
            mask[row, : len(e.ids)] = 1
            if "input_ids" in feeds:
                feeds["input_ids"][row, : len(e.ids)] = e.ids
            if "token_type_ids" in feeds:
                feeds["token_type_ids"][row, : len(e.ids)] = e.type_ids
        if "attention_mask" in feeds:
            feeds["attention_mask"] = mask
        # a request of its own: concurrent questions and batches each take a free stream
        hidden = self._model.create_infer_request().infer(feeds)[0]
        if self.layout.pooling == "cls":
            pooled = hidden[:, 0]
        else:
            pooled = (hidden * mask[..., None]).sum(1) / np.maximum(mask.sum(1, keepdims=True), 1)
        # unit length always, as the memory's dot-product similarities assume
        return pooled / np.maximum(np.linalg.norm(pooled, axis=1, keepdims=True), 1e-12)


def _pad_token(model: Path) -> str | None:
    try:
        token = json.loads((model / "tokenizer_config.json").read_text()).get("pad_token")
    except (OSError, ValueError):
        return None
    return token.get("content") if isinstance(token, dict) else token
