"""Stage `degrade`: the built-in HQ faces (with landmarks detected on them), their synthetic LQ versions
with one parameter record per image, and a gallery of every preset. `faceboard degrade` runs the same
degradation on any folder of HQ faces.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from faceboard.config import Params
from faceboard.degrade.presets import PRESETS
from faceboard.degrade.run import Setting, copy_png, degrade_images, write_records
from faceboard.layout import ImageRef, by_subset, list_images
from faceboard.paired.faces import write_faces
from tasks.landmarks import detect_folder

LQ = "lq"
PARAMETERS = "degradation.parquet"
LANDMARKS = "landmarks.csv"
HQ = "hq"


def setting_for(params: Params, preset: str | None = None) -> Setting:
    """The degradation of `preset` (default: params' preset) with its overrides and the global seed."""
    preset = preset or params.degradation.preset
    return Setting.of(preset, params.degradation.overrides.get(preset), params.seed)


def prepare_hq(hq_dir: Path) -> dict:
    """Write the built-in HQ faces and the landmarks MTCNN finds on them (`landmarks.csv`)."""
    shutil.rmtree(hq_dir, ignore_errors=True)
    faces = write_faces(hq_dir)
    found = detect_folder(list_images(hq_dir), hq_dir / LANDMARKS)
    return {"faces": faces, "landmarks": found.record}


def shards(hq_dir: Path, out_dir: Path) -> dict[str, list[ImageRef]]:
    """The HQ faces by subset; `out_dir/lq` is emptied for their LQ versions."""
    refs = list_images(hq_dir)
    if not refs:
        raise ValueError(f"{hq_dir}: no HQ images")
    shutil.rmtree(out_dir / LQ, ignore_errors=True)
    return by_subset(refs)


def degrade_shard(subset: str, refs: list[ImageRef], out_dir: Path, setting: Setting, workers: int = 1) -> list[dict]:
    """Degrade one shard into `out_dir/lq/<subset>/`; one parameter record per image."""
    return degrade_images(refs, out_dir / LQ, setting, workers, desc=f"degrade {setting.preset}/{subset}")


def degrade_folder(hq_dir: Path, out_dir: Path, setting: Setting, workers: int = 1) -> pd.DataFrame:
    """Every shard of `hq_dir`, one after another; writes `out_dir/lq/` and `out_dir/degradation.parquet`."""
    rows = [row for subset, refs in shards(hq_dir, out_dir).items()
            for row in degrade_shard(subset, refs, out_dir, setting, workers)]
    return write_records(rows, out_dir / PARAMETERS)


def render_gallery(hq_dir: Path, out_dir: Path, params: Params) -> Path:
    """Every preset (with its overrides) on every HQ face: `out_dir/hq/` (with the HQ landmarks) and
    `out_dir/<preset>/`."""
    shutil.rmtree(out_dir, ignore_errors=True)
    refs = list_images(hq_dir)
    for ref in refs:
        copy_png(ref, out_dir / HQ)
    if (hq_dir / LANDMARKS).is_file():
        shutil.copyfile(hq_dir / LANDMARKS, out_dir / HQ / LANDMARKS)
    for preset in PRESETS:
        degrade_images(refs, out_dir / preset, setting_for(params, preset), desc=f"gallery {preset}")
    return out_dir


prepare_hq_task = task(prepare_hq, name="paired-hq", cache_policy=NO_CACHE)
degrade_shard_task = task(degrade_shard, name="degrade-shard", task_run_name="degrade-{subset}",
                          cache_policy=NO_CACHE)
gallery_task = task(render_gallery, name="degrade-gallery", cache_policy=NO_CACHE)
