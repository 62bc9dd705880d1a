"""Stage `score`: per-image identity similarity and quality metrics for one method, shard by shard."""

from __future__ import annotations

import json
import math
import platform
from pathlib import Path

import pandas as pd
from prefect import task

import faceboard
from faceboard.landmarks import LandmarkError, Landmarks, load_landmarks, lookup
from faceboard.layout import ImageRef, list_images, match
from faceboard.scoring.comparability import not_comparable
from faceboard.scoring.per_image import FEATURES, Item, Scorer

PER_IMAGE = "per_image.parquet"
PROVENANCE = "provenance.json"
SET_METRICS = "set_metrics.json"


def items_for(lq: list[ImageRef], outputs: list[ImageRef], landmarks: Landmarks | None,
              failures: dict[tuple[str, str], str] | None = None) -> tuple[list[Item], list[ImageRef]]:
    """Pair each LQ image with its output; return the items and the outputs that match no LQ image."""
    found = match(lq, outputs)
    by_key = {(ref.subset, ref.name): out.path for ref, out in found.pairs}
    items = []
    for ref in lq:
        error = "" if (ref.subset, ref.name) in by_key else (failures or {}).get((ref.subset, ref.name), "no output")
        points = None
        if landmarks is not None:
            try:
                points = lookup(landmarks, ref.subset, ref.name)
            except LandmarkError as err:
                error = error or str(err)
        items.append(Item(ref.subset, ref.name, by_key.get((ref.subset, ref.name)), ref.path, points, error))
    return items, found.extra


def items_without_reference(outputs: list[ImageRef]) -> list[Item]:
    """No LQ folder: score the outputs alone (no-reference metrics, no ID gate)."""
    return [Item(ref.subset, ref.name, ref.path) for ref in outputs]


def score_shard(scorer: Scorer, method: str, subset: str, items: list[Item], batch_size: int = 8) -> list[dict]:
    """Score one shard (one method x one subset)."""
    return scorer.score(method, items, batch_size, desc=f"score {method}/{subset}")


def write_scores(out_dir: Path, rows: list[dict], scorer: Scorer, extra: dict | None = None) -> pd.DataFrame:
    """Write `per_image.parquet`, `set_metrics.json` (FID: one value over all the method's images) and
    `provenance.json` (metrics, weights with hashes, versions, why not comparable to the official score)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    frame = pd.DataFrame([{k: v for k, v in row.items() if k != FEATURES} for row in rows])
    for column in ("id_sim", *scorer.per_image_metrics):
        if column not in frame:
            frame[column] = float("nan")
    frame = frame.sort_values(["subset", "image"], kind="stable").reset_index(drop=True)
    frame.to_parquet(out_dir / PER_IMAGE, index=False)
    (out_dir / SET_METRICS).write_text(json.dumps(scorer.set_values(rows), indent=1, sort_keys=True) + "\n")
    provenance = {**scorer.provenance(), **versions(), **(extra or {})}
    provenance["not_comparable_to_official"] = not_comparable(provenance)
    (out_dir / PROVENANCE).write_text(json.dumps(provenance, indent=1, sort_keys=True, default=str) + "\n")
    return frame


def load_set_metrics(out_dir: Path) -> dict[str, float]:
    """{set metric: value} written by `write_scores` (NaN where it could not be computed)."""
    path = out_dir / SET_METRICS
    entries = json.loads(path.read_text()) if path.is_file() else {}
    return {name: math.nan if entry["value"] is None else entry["value"] for name, entry in entries.items()}


def versions() -> dict:
    import numpy
    import pyiqa
    import pytorch_fid
    import torch

    return {"versions": {"faceboard": faceboard.__version__, "torch": torch.__version__, "pyiqa": pyiqa.__version__,
                         "pytorch_fid": pytorch_fid.__version__, "numpy": numpy.__version__,
                         "python": platform.python_version()}}


def load_dataset(dataset_dir: Path) -> tuple[list[ImageRef], Landmarks | None]:
    lq = list_images(dataset_dir / "lq")
    csv = dataset_dir / "landmarks.csv"
    return lq, (load_landmarks(csv) if csv.is_file() else None)


score_shard_task = task(score_shard, name="score-shard", task_run_name="score-{method}-{subset}")
