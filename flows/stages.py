"""One Prefect flow per pipeline stage; each dvc.yaml stage's cmd runs one of these.

Shards (method x subset) are Prefect tasks; images within a shard are batched, never one task each.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow
from prefect.cache_policies import NO_CACHE
from prefect.task_runners import ThreadPoolTaskRunner

from faceboard.catalog import Catalog
from faceboard.config import Params, load_params
from faceboard.datasets.manifest import landmark_failures
from faceboard.datasets.manifest import read as read_manifest
from faceboard.degrade.run import write_records
from faceboard.device import resolve_device
from faceboard.env import PARAMS_FILE
from faceboard.layout import by_subset, list_images
from faceboard.scoring.per_image import Item, Scorer
from tasks.degrade import PARAMETERS as DEGRADATION_PARAMETERS
from tasks.degrade import degrade_shard_task, gallery_task, prepare_hq_task, setting_for
from tasks.degrade import shards as degrade_shards
from tasks.fetch import fetch_task
from tasks.landmarks import with_failures
from tasks.leaderboard import leaderboard_task
from tasks.paired import paired_leaderboard_task, paired_method_task
from tasks.report import report_task
from tasks.restore import LOG, finish, prepare_output, restore_shard_task
from tasks.score import (
    describe_dataset,
    items_for,
    load_dataset,
    score_shard_task,
    write_scores,
)


def _context(root: str | Path) -> tuple[Path, Params, Catalog]:
    root = Path(root).resolve()
    return root, load_params(root / PARAMS_FILE), Catalog(root)


@flow(name="fetch")
def fetch_flow(root: str = ".") -> str:
    """The active dataset, verified; offline, its fallback stands in (said loudly, marked in the manifest)."""
    root, params, _ = _context(root)
    fetched = fetch_task(params, params.dataset, root)
    print(("WARNING: " if fetched.status == "stand-in" else "") + fetched.message, flush=True)
    return str(fetched.path)


@flow(name="restore", flow_run_name="restore-{method}", task_runner=ThreadPoolTaskRunner(max_workers=1))
def restore_flow(method: str, root: str = ".") -> str:
    """One task per shard, one at a time: the loaded model is reused and each shard's seed holds."""
    root, params, cat = _context(root)
    config = params.methods[method]
    out = cat.restored(method)
    refs = list_images(cat.dataset(params.dataset) / "lq")
    prepare_output(out, method, config, refs, root)
    device = resolve_device(params.device)
    futures = [restore_shard_task.with_options(cache_policy=NO_CACHE).submit(
        method, config, subset, shard, out, root, device, params.batch_size, seed=params.seed)
        for subset, shard in by_subset(refs).items()]
    finish(method, config, refs, out, root, [row for f in futures for row in f.result()])
    return str(out)


@flow(name="score", flow_run_name="score-{method}", task_runner=ThreadPoolTaskRunner(max_workers=1))
def score_flow(method: str, root: str = ".") -> str:
    root, params, cat = _context(root)
    dataset_dir = cat.dataset(params.dataset)
    lq, landmarks = load_dataset(dataset_dir)
    restored = cat.restored(method)
    log = pd.read_parquet(restored / LOG)
    failures = {(r.subset, r.image): r.error for r in log.itertuples() if r.status == "failed"}
    items, _ = items_for(lq, list_images(restored), landmarks, failures)
    items = with_failures(items, landmark_failures(dataset_dir))
    scorer = Scorer(params.metrics, params.identity.backbone, resolve_device(params.device), cat.cache)
    rows = score_shards(scorer, method, items, params.batch_size)
    manifest = read_manifest(dataset_dir) or {}
    write_scores(cat.scores(method), rows, scorer, {
        "dataset": describe_dataset(params, root, dataset_dir, lq, manifest), "method": method,
        "dataset_fallback": manifest.get("fallback"), "method_config": params.methods[method].model_dump()})
    return str(cat.scores(method).folder)


def score_shards(scorer: Scorer, method: str, items: list[Item], batch_size: int) -> list[dict]:
    """Submit one Prefect task per subset shard and collect the per-image rows."""
    task = score_shard_task.with_options(cache_policy=NO_CACHE)
    futures = [task.submit(scorer, method, subset, shard, batch_size) for subset, shard in by_subset(items).items()]
    return [row for f in futures for row in f.result()]


@flow(name="leaderboard")
def leaderboard_flow(root: str = ".") -> str:
    root, params, cat = _context(root)
    leaderboard_task(params, {m: cat.scores(m) for m in params.methods}, cat.board)
    return str(cat.board.leaderboard)


@flow(name="report")
def report_flow(root: str = ".") -> str:
    root, _, cat = _context(root)
    return str(report_task(cat.board, cat.report, cat.paired_board, cat.paired_gallery))


@flow(name="degrade", task_runner=ThreadPoolTaskRunner(max_workers=1))
def degrade_flow(root: str = ".") -> str:
    """The paired track's HQ faces, their synthetic LQ (one task per shard) with its parameter table, the gallery."""
    root, params, cat = _context(root)
    prepare_hq_task(cat.paired_hq)
    setting, out = setting_for(params), cat.paired_degraded
    futures = [degrade_shard_task.submit(subset, refs, out, setting, params.degradation.workers)
               for subset, refs in degrade_shards(cat.paired_hq, out).items()]
    write_records([row for f in futures for row in f.result()], out / DEGRADATION_PARAMETERS)
    gallery_task(cat.paired_hq, cat.paired_gallery, params)
    return str(out)


@flow(name="paired", task_runner=ThreadPoolTaskRunner(max_workers=1))
def paired_flow(root: str = ".") -> str:
    """Each method of `paired.methods` on the synthetic LQ faces (one task each), scored against the HQ faces,
    then their leaderboard: one process, as every stage process pays the start-up of Prefect and the models."""
    root, params, cat = _context(root)
    device = resolve_device(params.device)
    for method in params.paired.methods:
        paired_method_task(method, params, cat, root, device)
    paired_leaderboard_task(params, cat)
    return str(cat.paired_board.leaderboard)
