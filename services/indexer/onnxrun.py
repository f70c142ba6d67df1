"""Sentence models on ONNX Runtime: a one-time export and an encoder equal to torch's.

`greenplat models prepare` exports each prepared model's transformer (token vectors out) to
`onnx/model.onnx` next to it. OnnxEncoder then reproduces SentenceTransformer.encode around
that graph: the model's prompts, truncation at max_seq_length, batches sorted by length, mean
pooling over the attention mask, L2 normalisation. A query costs about half of torch's time on
one thread, and a session run holds the GIL once instead of once per torch operation. The
export is also quantized to `onnx/model.int8.onnx` (int8 weights), on which queries cost
about 0.4 of the float graph's time.
"""

from __future__ import annotations

import functools
import importlib.metadata
import json
import logging
import shutil
import tempfile
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, cast

import numpy as np
from rich.console import Console

from greenplat.indexer.modelprep import swap_into_place

if TYPE_CHECKING:
    import onnxruntime
    from transformers import PreTrainedTokenizerBase

log = logging.getLogger(__name__)

ONNX_DIR = "onnx"
ONNX_FILE = "model.onnx"
# The same graph with its matrix products' weights in int8 (one scale per output channel),
# activations quantized as they come: queries run on it by default (settings.model_runtime).
QUANTIZED_FILE = "model.int8.onnx"
QUANTIZATION: dict[str, Any] = {"weights": "int8", "per_channel": True, "ops": ["MatMul"]}
MARKER_FILE = "export.json"
OPSET = 17
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
# The only modules OnnxEncoder reproduces after the exported transformer.
_MODULE_TYPES = ("Transformer", "Pooling", "Normalize")
_SAMPLE = ["query: 测试一下", "passage: a longer sample text, so that the batch has padding"]


class NotExportable(ValueError):
    """The model folder holds something OnnxEncoder cannot reproduce (torch must run it)."""


@dataclass(frozen=True)
class EncodeConfig:
    """What SentenceTransformer.encode does around the transformer, read from the folder."""

    prompts: dict[str, str]
    max_seq_length: int
    dim: int


def _read_json(path: Path) -> Any:
    return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}


def _is_mean_pooling(pooling: dict[str, Any]) -> bool:
    """True when the pooling config (sentence-transformers 2-6 key styles) is mean only."""
    if "pooling_mode" in pooling:
        return pooling["pooling_mode"] == "mean"
    modes = [key for key, on in pooling.items() if key.startswith("pooling_mode_") and on]
    return modes == ["pooling_mode_mean_tokens"]


def read_config(model_dir: Path) -> EncodeConfig:
    """The folder's encode settings; NotExportable unless it is transformer, mean, normalise."""
    modules = _read_json(model_dir / "modules.json")
    kinds = [module["type"].rpartition(".")[2] for module in modules]
    if kinds[:2] != ["Transformer", "Pooling"] or not set(kinds) <= set(_MODULE_TYPES):
        raise NotExportable(f"{model_dir}: modules {kinds} are not transformer + pooling")
    pooling = _read_json(model_dir / "1_Pooling" / "config.json")
    if not _is_mean_pooling(pooling):
        raise NotExportable(f"{model_dir}: pooling is not mean ({pooling})")
    prompts = _read_json(model_dir / "config_sentence_transformers.json").get("prompts") or {}
    if prompts and pooling.get("include_prompt", True) is False:
        raise NotExportable(f"{model_dir}: pooling leaves the prompt out")
    bert = _read_json(model_dir / "sentence_bert_config.json")
    if bert.get("do_lower_case") or "max_seq_length" not in bert:
        raise NotExportable(f"{model_dir}: sentence_bert_config.json is not plain")
    dim = pooling.get("word_embedding_dimension") or pooling.get("embedding_dimension")
    return EncodeConfig(dict(prompts), int(bert["max_seq_length"]), int(dim))


def _weights(model_dir: Path) -> Path:
    for name in WEIGHT_FILES:
        if (model_dir / name).is_file():
            return model_dir / name
    raise NotExportable(f"{model_dir} has no weights file ({', '.join(WEIGHT_FILES)})")


def _stamp(model_dir: Path) -> dict[str, Any]:
    """What the export was made from: the weights file and the exporter. Neither folder's
    path nor exact times: an image build copies both folders elsewhere."""
    weights = _weights(model_dir)
    return {
        "weights": weights.name,
        "weights_size": weights.stat().st_size,
        "opset": OPSET,
        "torch": importlib.metadata.version("torch"),
    }


def is_exported(model_dir: Path, onnx_dir: Path) -> bool:
    """True when onnx_dir holds an export of model_dir's current weights."""
    model = onnx_dir / ONNX_FILE
    if not model.is_file():
        return False
    try:
        stamp = _stamp(model_dir)
        newer = model.stat().st_mtime >= _weights(model_dir).stat().st_mtime
    except (NotExportable, OSError):
        return False
    marker = _read_json(onnx_dir / MARKER_FILE)
    return newer and marker.get("export") == stamp and marker.get("size") == model.stat().st_size


def is_quantized(model_dir: Path, onnx_dir: Path) -> bool:
    """True when onnx_dir holds a current export and its quantized graph."""
    quantized = onnx_dir / QUANTIZED_FILE
    if not is_exported(model_dir, onnx_dir) or not quantized.is_file():
        return False
    marker = _read_json(onnx_dir / MARKER_FILE).get("quantized") or {}
    newer = quantized.stat().st_mtime >= (onnx_dir / ONNX_FILE).stat().st_mtime
    return newer and marker == {**QUANTIZATION, "size": quantized.stat().st_size}


def _quantize_graph(source: Path, target: Path) -> dict[str, Any]:
    """Quantize source's matrix products to target (int8 weights, a scale per output channel);
    returns the marker entry. Measured on e5-small: queries 2.5x faster on one thread, cosine
    to the float vector 0.997 on average (docs/evaluation.md, eleventh round)."""
    from onnxruntime.quantization import QuantType, quantize_dynamic

    quiet = logging.getLogger()  # the quantizer advises pre-processing on the root logger
    level = quiet.level
    quiet.setLevel(logging.ERROR)
    try:
        quantize_dynamic(
            str(source),
            str(target),
            weight_type=QuantType.QInt8,
            per_channel=bool(QUANTIZATION["per_channel"]),
            op_types_to_quantize=list(QUANTIZATION["ops"]),
        )
    finally:
        quiet.setLevel(level)
    return {**QUANTIZATION, "size": target.stat().st_size}


def _add_quantized(onnx_dir: Path, name: str, console: Console) -> None:
    """Quantize an existing export in place (an export made before quantized graphs were)."""
    marker_path = onnx_dir / MARKER_FILE
    with tempfile.TemporaryDirectory(prefix=".quantize.", dir=onnx_dir) as scratch:
        built = Path(scratch) / QUANTIZED_FILE
        with console.status(f"{name}: quantizing the ONNX graph to int8"):
            entry = _quantize_graph(onnx_dir / ONNX_FILE, built)
        built.chmod(0o644)
        built.replace(onnx_dir / QUANTIZED_FILE)
        marker = {**_read_json(marker_path), "quantized": entry}
        staged = Path(scratch) / MARKER_FILE
        staged.write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        staged.chmod(0o644)
        staged.replace(marker_path)


def _export_graph(model_dir: Path, target: Path) -> None:
    """Trace the model's transformer (ids and mask in, token vectors out) to target."""
    import torch
    from sentence_transformers import SentenceTransformer
    from transformers.utils import logging as transformers_logging

    transformers_logging.disable_progress_bar()
    st = SentenceTransformer(str(model_dir), device="cpu", local_files_only=True)
    transformer = cast(torch.nn.Module, st[0].auto_model).eval()

    class TokenVectors(torch.nn.Module):
        def __init__(self) -> None:
            super().__init__()
            self.transformer = transformer

        def forward(self, input_ids: torch.Tensor, attention_mask: torch.Tensor) -> torch.Tensor:
            out = self.transformer(input_ids=input_ids, attention_mask=attention_mask)
            return out.last_hidden_state

    # A padded batch of two: the trace must keep the attention mask's path.
    sample = st.tokenizer(_SAMPLE, padding=True, return_tensors="pt")
    names, dynamic = ("input_ids", "attention_mask"), {0: "batch", 1: "sequence"}
    # The tracer warns about every Python branch it freezes; those on shapes equal in every
    # call (mask length = input length) are the only ones here, and the tests compare vectors.
    with torch.no_grad(), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(
            TokenVectors(),
            (sample["input_ids"], sample["attention_mask"]),
            str(target),
            input_names=list(names),
            output_names=["last_hidden_state"],
            dynamic_axes={name: dynamic for name in (*names, "last_hidden_state")},
            opset_version=OPSET,
            dynamo=False,
        )


def export(model_dir: Path, onnx_dir: Path, *, name: str, force: bool = False) -> Path:
    """Export model_dir to onnx_dir/model.onnx, and its quantized graph beside it, unless a
    current export is there; return the export."""
    console = Console(stderr=True)
    target = onnx_dir / ONNX_FILE
    if is_exported(model_dir, onnx_dir) and not force:
        if not is_quantized(model_dir, onnx_dir):
            _add_quantized(onnx_dir, name, console)
        console.log(f"{name}: ONNX export already at {target}")
        return target
    read_config(model_dir)  # refuse before spending a minute on a model torch must run
    stamp = _stamp(model_dir)
    onnx_dir.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{onnx_dir.name}.", dir=onnx_dir.parent))
    try:
        with console.status(f"{name}: exporting to ONNX (opset {OPSET}, about a minute)"):
            _export_graph(model_dir, build / ONNX_FILE)
        size = (build / ONNX_FILE).stat().st_size
        with console.status(f"{name}: quantizing the ONNX graph to int8"):
            quantized = _quantize_graph(build / ONNX_FILE, build / QUANTIZED_FILE)
        marker = {"export": stamp, "size": size, "quantized": quantized}
        (build / MARKER_FILE).write_text(json.dumps(marker, indent=2) + "\n", encoding="utf-8")
        for path in [build, *build.iterdir()]:
            path.chmod(0o755 if path.is_dir() else 0o644)
        swap_into_place(build, onnx_dir)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    console.log(f"{name}: ONNX export ready at {target} ({size / 1e6:.0f} MB)")
    return target


def mean_pool(tokens: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """L2-normalised mean of the token vectors under the attention mask (as torch does)."""
    weights = mask[..., None].astype(np.float32)
    summed = (tokens * weights).sum(axis=1)
    vectors = summed / np.maximum(weights.sum(axis=1), 1e-9)
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return vectors / np.maximum(norms, 1e-12)


class OnnxEncoder:
    """SentenceTransformer.encode of one model on ONNX Runtime; one session per thread count.

    quantized: run the int8 graph (QUANTIZED_FILE) instead of the exported float graph."""

    def __init__(self, model_dir: Path, onnx_dir: Path, *, quantized: bool = False) -> None:
        from transformers import AutoTokenizer

        self.config = read_config(model_dir)
        self.quantized = quantized
        self.path = onnx_dir / (QUANTIZED_FILE if quantized else ONNX_FILE)
        self.tokenizer: PreTrainedTokenizerBase = AutoTokenizer.from_pretrained(
            str(model_dir), local_files_only=True
        )
        self._sessions: dict[int, onnxruntime.InferenceSession] = {}
        self._lock = threading.Lock()

    @property
    def dim(self) -> int:
        return self.config.dim

    def session(self, threads: int) -> onnxruntime.InferenceSession:
        """The session running on `threads` intra-op threads, created on first use and shared
        by every encoder of the process (a session is 0.5 GB and 1.2 s to create)."""
        with self._lock:
            if threads not in self._sessions:
                self._sessions[threads] = _shared_session(
                    str(self.path), self.path.stat().st_mtime_ns, threads
                )
            return self._sessions[threads]

    def encode(
        self, texts: Sequence[str], *, kind: str, threads: int, batch_size: int
    ) -> np.ndarray:
        """L2-normalised vectors of texts, batched longest first like sentence-transformers."""
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        prompt = self.config.prompts.get(kind, "")
        if self.quantized:
            # The int8 graph quantizes activations with scales taken from the whole batch
            # (padding included): batched, a text's vector would depend on its neighbours.
            # Alone, the same text always gets the same vector.
            batch_size = 1
        order = np.argsort([-len(text) for text in texts])
        session = self.session(threads)
        parts = []
        for start in range(0, len(texts), batch_size):
            batch = [prompt + texts[i] for i in order[start : start + batch_size]]
            parts.append(self._run(session, batch))
        vectors = np.concatenate(parts)
        return vectors[np.argsort(order)]

    def _run(self, session: onnxruntime.InferenceSession, batch: list[str]) -> np.ndarray:
        encoded = self.tokenizer(
            batch,
            padding=True,
            truncation="longest_first",
            max_length=self.config.max_seq_length,
            return_tensors="np",
        )
        ids = encoded["input_ids"].astype(np.int64)
        mask = encoded["attention_mask"].astype(np.int64)
        (tokens,) = session.run(None, {"input_ids": ids, "attention_mask": mask})
        return mean_pool(tokens, mask)


@functools.lru_cache(maxsize=8)
def _shared_session(path: str, modified: int, threads: int) -> onnxruntime.InferenceSession:
    # `modified` keys a re-exported file to a new session.
    return _new_session(Path(path), threads)


def _new_session(path: Path, threads: int) -> onnxruntime.InferenceSession:
    import onnxruntime

    options = onnxruntime.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    # Idle pool threads would spin on cores that requests and PostgreSQL need.
    options.add_session_config_entry("session.intra_op.allow_spinning", "0")
    return onnxruntime.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])


def load_encoder(model_dir: Path, onnx_dir: Path, *, quantized: bool = False) -> OnnxEncoder | None:
    """The ONNX encoder of a model, or None (torch runs it) when not exported or unsupported.
    Asked for the quantized graph of an export that has none, it runs the float graph."""
    if not is_exported(model_dir, onnx_dir):
        return None
    if quantized and not is_quantized(model_dir, onnx_dir):
        log.info("%s: no current int8 graph, the float ONNX graph runs", onnx_dir)
        quantized = False
    try:
        return OnnxEncoder(model_dir, onnx_dir, quantized=quantized)
    except (NotExportable, OSError, ValueError) as exc:
        log.warning("ONNX runtime unavailable for %s, torch runs it: %s", model_dir, exc)
        return None
