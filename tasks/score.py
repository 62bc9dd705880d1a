"""Stage `score`: per-image identity similarity and quality metrics for one method, shard by shard."""

from __future__ import annotations

import platform
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

import faceboard
from faceboard.catalog import ScoreFiles
from faceboard.config import Params
from faceboard.datasets.official import describe
from faceboard.files import (
    remove_partial_writes,
    sha256_file,
    write_json_atomic,
    write_parquet_atomic,
)
from faceboard.landmarks import LandmarkError, Landmarks, load_landmarks, lookup
from faceboard.layout import ImageRef, list_images, match
from faceboard.scoring.comparability import method_reasons
from faceboard.scoring.per_image import (
    FEATURES,
    LQ_FEATURES,
    LQ_PREFIX,
    Item,
    Scorer,
    ScorerSpec,
    loaded,
)
from tasks.gpu import gpu_turn


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


def write_scores(out: ScoreFiles, rows: list[dict], scorer: Scorer, extra: dict | None = None) -> pd.DataFrame:
    """Write the per-image table, the set metrics (FID: one value over all the method's images, and one with
    LQ stand-ins for failed images) and the provenance (dataset, metrics, weights with hashes, versions)."""
    out.folder.mkdir(parents=True, exist_ok=True)
    remove_partial_writes(out.folder)
    frame = pd.DataFrame([{k: v for k, v in row.items() if k not in (FEATURES, LQ_FEATURES)} for row in rows])
    for column in ("id_sim", *scorer.per_image_metrics, *(LQ_PREFIX + m for m in scorer.per_image_metrics)):
        if column not in frame:
            frame[column] = float("nan")
    frame = frame.sort_values(["subset", "image"], kind="stable").reset_index(drop=True)
    write_parquet_atomic(out.per_image, frame)
    write_json(out.set_metrics, scorer.set_values(rows))
    provenance = {**scorer.provenance(), **versions(), **(extra or {})}
    provenance["not_comparable_to_official"] = method_reasons(provenance)
    write_json(out.provenance, provenance)
    return frame


def write_json(path: Path, record: dict) -> None:
    write_json_atomic(path, record)


def versions() -> dict:
    import numpy
    import pyiqa
    import pytorch_fid
    import torch

    return {"versions": {"faceboard": faceboard.__version__, "torch": torch.__version__, "pyiqa": pyiqa.__version__,
                         "pytorch_fid": pytorch_fid.__version__, "numpy": numpy.__version__,
                         "python": platform.python_version()}}


def describe_dataset(params: Params, root: Path, dataset_dir: Path, lq: list[ImageRef], manifest: dict) -> dict:
    """The fetched dataset's record (faceboard.datasets.official); landmarks named by how fetch got them."""
    csv = dataset_dir / "landmarks.csv"
    source = (manifest.get("landmarks") or {}).get("source", "csv")
    landmarks = {"source": source, "sha256": sha256_file(csv)} if csv.is_file() else None
    return describe(params.dataset, lq, landmarks, params, root, params.edition)


def load_dataset(dataset_dir: Path) -> tuple[list[ImageRef], Landmarks | None]:
    lq = list_images(dataset_dir / "lq")
    csv = dataset_dir / "landmarks.csv"
    return lq, (load_landmarks(csv) if csv.is_file() else None)


@task(name="score-shard", task_run_name="score-{method}-{subset}", cache_policy=NO_CACHE)
def score_shard_task(spec: ScorerSpec, method: str, subset: str, items: list[Item], batch_size: int = 8,
                     gpu_slots: int = 1) -> list[dict]:
    """One shard with this worker's scorer (loaded once per process), taking its turn on a GPU."""
    with gpu_turn(spec.device, gpu_slots):
        return score_shard(loaded(spec), method, subset, items, batch_size)


@task(name="write-scores", cache_policy=NO_CACHE)
def write_scores_task(spec: ScorerSpec, out: ScoreFiles, rows: list[dict], extra: dict | None = None) -> None:
    """`write_scores` in a worker that holds the scorer (its set metrics and provenance)."""
    write_scores(out, rows, loaded(spec), extra)
