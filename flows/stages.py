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
from faceboard.device import resolve_device
from faceboard.env import PARAMS_FILE
from faceboard.layout import by_subset, list_images
from faceboard.scoring.per_image import Item, Scorer
from tasks.fetch import fetch_task
from tasks.leaderboard import leaderboard_task
from tasks.report import report_task
from tasks.restore import LOG, prepare_output, restore_shard_task, write_log
from tasks.score import items_for, load_dataset, score_shard_task, write_scores


def _context(root: str | Path) -> tuple[Path, Params, Catalog]:
    root = Path(root).resolve()
    return root, load_params(root / PARAMS_FILE), Catalog(root)


@flow(name="fetch")
def fetch_flow(root: str = ".") -> str:
    root, params, cat = _context(root)
    return str(fetch_task(params.dataset, params.active_dataset, root, cat.dataset(params.dataset)))


@flow(name="restore", flow_run_name="restore-{method}")
def restore_flow(method: str, root: str = ".") -> str:
    root, params, cat = _context(root)
    config = params.methods[method]
    out = cat.restored(method)
    prepare_output(out, method, config)
    device = resolve_device(params.device)
    shards = by_subset(list_images(cat.dataset(params.dataset) / "lq"))
    futures = [restore_shard_task.with_options(cache_policy=NO_CACHE).submit(
        method, config, subset, refs, out, root, device, params.batch_size) for subset, refs in shards.items()]
    log = write_log(out, [row for f in futures for row in f.result()])
    failed = int((log["status"] == "failed").sum())
    print(f"restore {method}: {len(log) - failed} images ok, {failed} failed -> {out}")
    return str(out)


@flow(name="score", flow_run_name="score-{method}", task_runner=ThreadPoolTaskRunner(max_workers=1))
def score_flow(method: str, root: str = ".") -> str:
    root, params, cat = _context(root)
    lq, landmarks = load_dataset(cat.dataset(params.dataset))
    restored = cat.restored(method)
    log = pd.read_parquet(restored / LOG)
    failures = {(r.subset, r.image): r.error for r in log.itertuples() if r.status == "failed"}
    items, _ = items_for(lq, list_images(restored), landmarks, failures)
    scorer = Scorer(params.metrics, params.identity.backbone, resolve_device(params.device), cat.cache)
    rows = score_shards(scorer, method, items, params.batch_size)
    write_scores(cat.scores(method), rows, scorer, {"dataset": params.dataset, "method": method,
                                                     "method_config": params.methods[method].model_dump()})
    return str(cat.scores(method))


def score_shards(scorer: Scorer, method: str, items: list[Item], batch_size: int) -> list[dict]:
    """Submit one Prefect task per subset shard and collect the per-image rows."""
    task = score_shard_task.with_options(cache_policy=NO_CACHE)
    futures = [task.submit(scorer, method, subset, shard, batch_size) for subset, shard in by_subset(items).items()]
    return [row for f in futures for row in f.result()]


@flow(name="leaderboard")
def leaderboard_flow(root: str = ".") -> str:
    root, params, cat = _context(root)
    leaderboard_task(params, {m: cat.scores(m) for m in params.methods}, cat.leaderboard_dir)
    return str(cat.leaderboard)


@flow(name="report")
def report_flow(root: str = ".") -> str:
    root, _, cat = _context(root)
    return str(report_task(cat.leaderboard_dir, cat.report))
