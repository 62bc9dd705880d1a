"""One Prefect flow per pipeline stage; each dvc.yaml stage's cmd runs one of these.

Shards (method x subset) are Prefect tasks; images within a shard are batched, never one task each.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pandas as pd
from prefect import Flow, flow
from prefect.futures import PrefectFuture
from prefect.task_runners import ThreadPoolTaskRunner

from faceboard.catalog import Catalog, ScoreFiles
from faceboard.config import MethodConfig, Params, SecurityConfig, load_params
from faceboard.datasets.manifest import landmark_failures
from faceboard.datasets.manifest import read as read_manifest
from faceboard.degrade.run import write_records
from faceboard.device import resolve_device
from faceboard.env import PARAMS_FILE
from faceboard.layout import ImageRef, by_subset, list_images
from faceboard.methods import registry
from faceboard.scoring.per_image import Item, ScorerSpec
from flows.task_runners import lanes_per_worker, task_runner
from tasks.degrade import PARAMETERS as DEGRADATION_PARAMETERS
from tasks.degrade import degrade_shard_task, gallery_task, prepare_hq_task, setting_for
from tasks.degrade import shards as degrade_shards
from tasks.fetch import fetch_task
from tasks.landmarks import with_failures
from tasks.leaderboard import leaderboard_task, publish_board_task
from tasks.paired import paired_leaderboard_task, paired_method_task
from tasks.report import presets_gallery_task, report_task
from tasks.restore import LOG, finish, prepare_output, restore_shard_task
from tasks.score import (
    describe_dataset,
    items_for,
    load_dataset,
    score_shard_task,
    write_scores_task,
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


def rows_of(futures: list[PrefectFuture]) -> list[dict]:
    """The rows the shards return, in shard order (waiting for each)."""
    return [row for future in futures for row in future.result()]


def configured(stage_flow: Flow, root: str | Path = ".") -> Flow:
    """`stage_flow` running its shards on params.yaml's task runner (`execution`: workers, Dask)."""
    return stage_flow.with_options(task_runner=task_runner(load_params(Path(root) / PARAMS_FILE).execution))


@flow(name="restore", flow_run_name="restore-{method}", task_runner=ThreadPoolTaskRunner(max_workers=1))
def restore_flow(method: str, root: str = ".") -> str:
    """One task per shard, on the flow's task runner (`configured`)."""
    root, params, cat = _context(root)
    return str(finish_restore(submit_restore(method, params, cat, root), root))


@flow(name="score", flow_run_name="score-{method}", task_runner=ThreadPoolTaskRunner(max_workers=1))
def score_flow(method: str, root: str = ".") -> str:
    root, params, cat = _context(root)
    spec = scorer_spec(params, cat)
    futures, extra = submit_method_scores(spec, method, params, cat, root)
    write_method_scores(spec, cat.scores(method), futures, extra)
    return str(cat.scores(method).folder)


@flow(name="restore-and-score", task_runner=ThreadPoolTaskRunner(max_workers=1))
def methods_flow(root: str = ".", methods: list[str] | None = None) -> None:
    """The restore and score shards of every method (or of `methods`) on one task runner: a method's scoring
    starts when its restoring ends, while other methods' shards keep the workers busy."""
    root, params, cat = _context(root)
    spec = scorer_spec(params, cat)
    restoring = [submit_restore(method, params, cat, root) for method in methods or params.methods]
    scoring = []
    for shards in restoring:
        finish_restore(shards, root)
        scoring.append((shards.method, *submit_method_scores(spec, shards.method, params, cat, root)))
    for method, futures, extra in scoring:
        write_method_scores(spec, cat.scores(method), futures, extra)


@dataclass(frozen=True)
class Restoring:
    """One method's restore shards, submitted."""

    method: str
    config: MethodConfig
    refs: list[ImageRef]
    out: Path
    futures: list[PrefectFuture]
    security: SecurityConfig


def submit_restore(method: str, params: Params, cat: Catalog, root: Path) -> Restoring:
    config, out = params.methods[method], cat.restored(method)
    refs = list_images(cat.dataset_lq(params.dataset))
    prepare_output(out, method, config, refs, root)
    device = resolve_device(params.device)
    futures = [restore_shard_task.submit(method, config, subset, shard, out, root, device, params.batch_size,
                                         params.seed, params.execution.gpu_slots, params.security)
               for subset, shard in by_subset(refs).items()]
    return Restoring(method, config, refs, out, futures, params.security)


def finish_restore(shards: Restoring, root: Path) -> Path:
    finish(shards.method, shards.config, shards.refs, shards.out, root, rows_of(shards.futures), shards.security)
    return shards.out


def scorer_spec(params: Params, cat: Catalog) -> ScorerSpec:
    """The scorer every score shard loads: on a CPU, the machine's cores shared among the workers."""
    device = resolve_device(params.device)
    lanes = lanes_per_worker(params.execution) if device == "cpu" and not params.execution.dask_address else None
    return ScorerSpec(params.metrics, params.identity.backbone, device, cat.cache, lanes)


def submit_method_scores(spec: ScorerSpec, method: str, params: Params, cat: Catalog,
                         root: Path) -> tuple[list[PrefectFuture], dict]:
    """Submit the score shards of a restored method; return them with the provenance its scores carry."""
    dataset_dir = cat.dataset(params.dataset)
    lq, landmarks = load_dataset(dataset_dir)
    restored = cat.restored(method)
    log = pd.read_parquet(restored / LOG)
    failures = {(r.subset, r.image): r.error for r in log.itertuples() if r.status == "failed"}
    items, _ = items_for(lq, list_images(restored), landmarks, failures)
    items = with_failures(items, landmark_failures(dataset_dir))
    manifest = read_manifest(dataset_dir) or {}
    extra = {"dataset": describe_dataset(params, root, dataset_dir, lq, manifest), "method": method,
             "dataset_fallback": manifest.get("fallback"), "method_config": params.methods[method].model_dump()}
    return submit_score_shards(spec, method, items, params.batch_size, params.execution.gpu_slots), extra


def submit_score_shards(spec: ScorerSpec, method: str, items: list[Item], batch_size: int,
                        gpu_slots: int = 1) -> list[PrefectFuture]:
    """One Prefect task per subset shard."""
    return [score_shard_task.submit(spec, method, subset, shard, batch_size, gpu_slots)
            for subset, shard in by_subset(items).items()]


def write_method_scores(spec: ScorerSpec, out: ScoreFiles, futures: list[PrefectFuture], extra: dict) -> None:
    """Collect a method's shard rows and write its scores (in a worker holding the scorer)."""
    write_scores_task.submit(spec, out, rows_of(futures), extra).result()


@flow(name="leaderboard")
def leaderboard_flow(root: str = ".") -> str:
    """The ranking, the gallery's thumbnails (each method's outputs beside the LQ inputs; `lq` methods, whose
    outputs are the inputs, left out) and the ranking's Prefect artifacts."""
    root, params, cat = _context(root)
    outputs = {m: cat.restored(m) for m, config in params.methods.items() if config.type != registry.IDENTITY}
    leaderboard_task(params, {m: cat.scores(m) for m in params.methods}, cat.board,
                     cat.dataset_lq(params.dataset), outputs)
    publish_board_task(cat.board, cat.report)
    return str(cat.board.leaderboard)


@flow(name="report")
def report_flow(root: str = ".") -> str:
    root, _, cat = _context(root)
    return str(report_task(cat.board, cat.report, cat.paired_board, cat.report_metrics, cat.report_plot))


@flow(name="degrade", task_runner=ThreadPoolTaskRunner(max_workers=1))
def degrade_flow(root: str = ".") -> str:
    """The paired track's HQ faces, their synthetic LQ (one task per shard) with its parameter table, the gallery."""
    root, params, cat = _context(root)
    prepare_hq_task(cat.paired_hq)
    setting, out = setting_for(params), cat.paired_degraded
    futures = [degrade_shard_task.submit(subset, refs, out, setting, params.degradation.workers)
               for subset, refs in degrade_shards(cat.paired_hq, out).items()]
    write_records(rows_of(futures), out / DEGRADATION_PARAMETERS)
    gallery_task(cat.paired_hq, cat.paired_gallery, params)
    return str(out)


@flow(name="paired", flow_run_name="paired-{method}")
def paired_flow(method: str, root: str = ".") -> str:
    """One method of `paired.methods` on the synthetic LQ faces, scored against the HQ faces."""
    root, params, cat = _context(root)
    paired_method_task(method, params, cat, root, resolve_device(params.device))
    return str(cat.paired_method(method))


@flow(name="paired_leaderboard")
def paired_leaderboard_flow(root: str = ".") -> str:
    root, params, cat = _context(root)
    paired_leaderboard_task(params, cat)
    presets_gallery_task(cat.paired_gallery, params.report, cat.paired_board)
    return str(cat.paired_board.leaderboard)
