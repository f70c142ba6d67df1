"""The product path on the ten dev sets: import once, then `greenplat eval --ratings` per set.

The platform's embedding cache is first filled with the vectors bench.expertise cached for
the same texts (same models, same passage kind), so the import embeds nothing it already
has; anything else is embedded by the import as usual. GREENPLAT_MODELS picks the models.
"""

from __future__ import annotations

import os
import subprocess
import time
from pathlib import Path

import numpy as np

from greenplat.core.db import open_database
from greenplat.core.settings import Settings
from greenplat.indexer.embedding import EmbeddingCache

G = ".venv/bin/greenplat"
DATA = Path(os.environ.get("GREENPLAT_SHARED_DATA", "../shared/data"))


def seed(data_dir: Path, cache: Path) -> int:
    """Copy cached passage vectors into the platform's embedding cache; return how many."""
    settings = Settings(data_dir=data_dir)
    db = open_database(settings)
    count = 0
    try:
        with db.session() as conn:
            for path in sorted(cache.glob("*-passage.npz")):
                model = path.name.removesuffix("-passage.npz")
                vectors = dict(np.load(path))
                EmbeddingCache().put(conn, model, {bytes.fromhex(k): v for k, v in vectors.items()})
                count += len(vectors)
    finally:
        db.close()
    return count


def run(data_dir: Path, cache: Path) -> None:
    work = data_dir.parent / "expertise"
    marker = data_dir / ".expertise-imported"
    if not marker.exists():
        subprocess.run(
            [
                ".venv/bin/python",
                "-m",
                "bench.evaldata",
                "--data",
                str(DATA),
                "--out",
                str(data_dir.parent),
            ],
            check=True,
        )
        print("seeded vectors:", seed(data_dir, cache))
        for library in ("experts", "achievements", "problems"):
            started = time.perf_counter()
            subprocess.run(
                [G, "import", library, str(work / f"{library}.jsonl"), "--data-dir", str(data_dir)],
                check=True,
            )
            print(f"import {library}: {time.perf_counter() - started:.1f}s")
        marker.touch()
    losses = []
    for n in range(1, 11):
        ratings = work / f"ratings-d_20_{n}.jsonl"
        out = subprocess.run(
            [G, "eval", "--ratings", str(ratings), "--data-dir", str(data_dir)],
            check=True,
            capture_output=True,
            text=True,
        ).stdout
        print(f"d_20_{n}", out.strip().splitlines()[-1])
        losses.append(float(out.strip().split()[-1]))
    print(f"mean loss over the ten sets: {np.mean(losses):.4f}")


def product_scores(corpus, feats, models: list[str]) -> float:
    """Mean loss when every rated pair is scored by greenplat.matcher.affinity.score_expert
    (the function the product calls) on the cached vectors, in the product's model order."""
    from greenplat.matcher import affinity as aff
    from greenplat.matcher.evaluation import expertise_loss

    losses, seconds, pairs = [], 0.0, 0
    for dev in corpus.sets:
        evidence = {}
        for expert, works in dev.works.items():
            ev = aff.ExpertEvidence({"external_id": expert})
            idx = [feats.paper_index[p] for p in works]
            for m in models:
                ev.work_vectors[m] = (idx, feats.paper_vecs[m][idx])
            evidence[expert] = ev
        scores = {}
        for r in dev.ratings:
            vectors = {m: feats.problem_vecs[m][feats.problem_index[r.problem_id]] for m in models}
            started = time.perf_counter()
            fit = aff.score_expert(vectors, aff.preferred_models(models), evidence[r.expert_id])
            seconds += time.perf_counter() - started
            pairs += 1
            scores[(r.expert_id, r.problem_id)] = fit.score
        losses.append(expertise_loss(dev.ratings, scores))
    print(
        f"score_expert: {seconds / pairs * 1e6:.0f} us per (expert, problem) pair ({pairs} pairs)"
    )
    return float(np.mean(losses))
