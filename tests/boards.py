"""Score files written by hand, to build leaderboards from known per-image values."""

from __future__ import annotations

import json

import pandas as pd

from faceboard.catalog import ScoreFiles

VERIFIED = {"weights": {"f.pth": "ab" * 32}, "weights_verified": True, "weights_unverified": {}}


def dataset_record(images: int, **changes) -> dict:
    """A score stage's `dataset` record for an LQ set that is not an official split."""
    return {"name": "toy", "protocol": "ntire2025", "images": images, "subsets": {}, "lq_sha256": "0" * 64,
            "official_split": None, "not_official_because": f"{images} LQ images, 0 matching", "official_landmarks":
            False, "landmarks": {"source": "csv", "sha256": "1" * 64}, **changes}


def provenance(images: int, metrics=("niqe",), backbone: str | None = "dlib_resnet", **changes) -> dict:
    gate = {"backbone": backbone, "official": backbone == "adaface_ir50", **VERIFIED} if backbone else None
    return {"dataset": dataset_record(images), "metrics": {m: {"options": {}, **VERIFIED} for m in metrics},
            "unavailable_metrics": {}, "id_backbone": gate, "versions": {"faceboard": "test"}, **changes}


def write(files: ScoreFiles, per_image: pd.DataFrame, record: dict, set_metrics: dict | None = None) -> ScoreFiles:
    """Write one method's score files as the score stage lays them out."""
    files.folder.mkdir(parents=True, exist_ok=True)
    per_image.to_parquet(files.per_image, index=False)
    files.provenance.write_text(json.dumps(record))
    files.set_metrics.write_text(json.dumps(set_metrics or {}))
    return files
