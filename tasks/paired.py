"""Stages `paired@METHOD` and `paired_leaderboard`: a method restores the synthetic LQ faces and is scored
against the HQ faces; then one leaderboard over the paired methods."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from faceboard.catalog import Catalog
from faceboard.config import Params
from faceboard.files import write_json_atomic, write_parquet_atomic
from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images
from faceboard.methods import registry
from faceboard.paired.faces import SOURCES
from faceboard.paired.leaderboard import best, summarise
from faceboard.paired.metrics import lower_better
from faceboard.paired.scoring import PairedScorer, pairs_for
from tasks.degrade import LANDMARKS, LQ, setting_for
from tasks.restore import restore_method
from tasks.score import versions

RESTORED = "restored"
KEYS = ["method", "subset", "image", "status", "error"]


def score_paired_method(method: str, params: Params, cat: Catalog, root: Path, device: str) -> pd.DataFrame:
    """Restore the synthetic LQ faces with `method`, score them against the HQ faces, write the scores."""
    config = params.methods[method]
    kind = registry.get(config.type, root).kind
    if kind == registry.SUBMISSION:
        raise ValueError(f"paired method {method!r} is a submission: only computed methods run on synthetic LQ")
    out = cat.paired_method(method)
    shutil.rmtree(out, ignore_errors=True)  # restored from this LQ set, never from an earlier one
    log = restore_method(method, config, cat.paired_degraded / LQ, out / RESTORED, root, device,
                         params.batch_size, seed=params.seed, security=params.security)
    failures = {(r.subset, r.image): r.error for r in log.itertuples() if r.status == "failed"}
    hq = cat.paired_hq
    pairs = pairs_for(list_images(hq), list_images(out / RESTORED), load_landmarks(hq / LANDMARKS), failures)
    scorer = PairedScorer(params.paired.metrics, params.metrics, params.identity.backbone, device)
    rows = scorer.score(method, pairs, params.batch_size, desc=f"paired {method}")
    frame = pd.DataFrame(rows, columns=[*KEYS, *scorer.columns]).sort_values(["subset", "image"], kind="stable")
    files = cat.paired_scores(method)
    write_parquet_atomic(files.per_image, frame)
    provenance = {**scorer.provenance(), **versions(), "method": method, "method_config": config.model_dump()}
    write_json_atomic(files.provenance, provenance)
    return frame


def build_paired_leaderboard(params: Params, cat: Catalog) -> pd.DataFrame:
    """`leaderboard.parquet` (per method: mean of each metric), `per_image.parquet` and `run.json`."""
    frames, provenance = [], {}
    for method in params.paired.methods:
        files = cat.paired_scores(method)
        frames.append(pd.read_parquet(files.per_image))
        provenance[method] = json.loads(files.provenance.read_text())
    per_image = pd.concat(frames, ignore_index=True)
    metrics = [c for c in per_image.columns if c not in KEYS]
    table = summarise(per_image, metrics, params.paired.methods)
    out = cat.paired_board
    write_parquet_atomic(out.leaderboard, table)
    write_parquet_atomic(out.per_image, per_image)
    setting = setting_for(params)
    unavailable = {name: why for p in provenance.values() for name, why in p["unavailable_metrics"].items()}
    run = {
        "preset": setting.preset,
        "ranges": setting.ranges.model_dump(),
        "seed": setting.seed,
        "hq_faces": json.loads((cat.paired_hq / SOURCES).read_text()),
        "metrics": metrics,
        "lower_better": {m: lower_better(m) for m in metrics},
        "best": best(table, metrics),
        "unavailable_metrics": unavailable,
        "methods": provenance,
    }
    write_json_atomic(out.run_info, run)
    return table


paired_method_task = task(score_paired_method, name="paired-method", task_run_name="paired-{method}",
                          cache_policy=NO_CACHE)
paired_leaderboard_task = task(build_paired_leaderboard, name="paired-leaderboard", cache_policy=NO_CACHE)
