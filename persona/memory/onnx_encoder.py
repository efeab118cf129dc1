"""A sentence-transformers model run on OpenVINO: the transformer exported once to ONNX, pooling in numpy.

Eager torch spends most of a short text's time in per-operator overhead, and in float32 everywhere.
OpenVINO runs the exported graph at the CPU's own best precision: bfloat16 on CPUs with AMX or
AVX512-BF16, where a batch of ~100-token chunks embeds 3-5x faster than ONNX Runtime in float32 with
vectors within 1e-4 (cosine) of torch's; float32 elsewhere, equal to torch's within 1e-6. A question
(`encode_query`) instead runs on an int8 copy of the export on ONNX Runtime: ~5 ms of CPU, ~40% less
than on OpenVINO, and its vector is within ~1% (cosine) of the full one (the retrieval eval ranks the
same). A request uses one thread: splitting one short question over two cores saves little time and
costs CPU that concurrent chat turns need; a long list of texts instead runs its batches side by side,
one stream per core. The export needs torch (loaded only then); the .onnx files are kept in the cache
dir, keyed by the model folder's files, so later starts import neither torch nor transformers.

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


def query_path(export: Path) -> Path:
    """Where the int8 copy of an export is kept, for questions."""
    return export.with_suffix(".q8.onnx")


def _remove_earlier_exports(model: Path, kept: Path) -> None:
    """A reinstalled or changed model folder is exported anew; its older exports (~150 MB each) go."""
    for old in kept.parent.glob(f"{_folder_prefix(model)}*.onnx"):
        if old not in (kept, query_path(kept)):
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


def quantize(export: Path, target: Path) -> None:
    """An int8 copy of the export's matrix products (weights per output channel, activations scaled per
    run) for ONNX Runtime: one question takes ~40% less CPU than on OpenVINO, and its vector stays within
    ~1% (cosine) of the full one, which documents are embedded with."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    partial = target.with_suffix(f".{os.getpid()}.partial")
    quantize_dynamic(
        str(export),
        str(partial),
        weight_type=QuantType.QInt8,
        per_channel=True,
        op_types_to_quantize=["MatMul"],
    )
    partial.replace(target)


def _query_copy(export: Path) -> Path | None:
    """The export's int8 copy, made once; None if it cannot be made (questions then run on the export)."""
    target = query_path(export)
    try:
        if not target.exists():
            quantize(export, target)
    except Exception as exc:  # noqa: BLE001 - it only costs speed
        _log.warning("questions embed on the full model: its int8 copy failed (%s)", exc)
        return None
    return target


class OnnxEncoder:
    def __init__(
        self,
        onnx_file: Path,
        tokenizer_file: Path,
        layout: Layout,
        query_file: Path | None = None,
        compiled_dir: Path | None = None,
    ) -> None:
        import onnxruntime
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
                # the compiled model is kept: a later start loads it in ~0.2 s instead of ~0.8 s
                **({"CACHE_DIR": str(compiled_dir)} if compiled_dir else {}),
            },
        )
        self._inputs = [i.get_any_name() for i in self._model.inputs]
        options = onnxruntime.SessionOptions()
        options.intra_op_num_threads = 1
        self._query_session = (
            None
            if query_file is None
            else onnxruntime.InferenceSession(str(query_file), options, providers=["CPUExecutionProvider"])
        )
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
            return cls(
                onnx_file, model / "tokenizer.json", layout, _query_copy(onnx_file), cache_dir / "openvino"
            )
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
        """A question's vector, from the int8 copy when there is one."""
        return self._pooled([self.tokenizer.encode(text)], question=True)[0]

    def _pooled(self, batch: list[Encoding], question: bool = False) -> np.ndarray:
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
        if question and self._query_session is not None:
            hidden = self._query_session.run(None, feeds)[0]
        else:  # a request of its own: concurrent questions and batches each take a free stream
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
