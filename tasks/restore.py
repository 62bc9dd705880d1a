"""Stage `restore`: run one method over one dataset, shard by shard (method x subset).

Outputs are `<out>/<Subset>/<name>.png`, 512x512, written atomically; an image already restored
under the same method fingerprint is never redone. Per-image failures go to `restore_log.parquet`.
"""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
from prefect import task

from faceboard.config import MethodConfig, fingerprint
from faceboard.imageio import ImageError, read_rgb_checked, write_png_atomic
from faceboard.layout import ImageRef, by_subset, list_images, match
from faceboard.methods import registry
from faceboard.progress import progress

LOG = "restore_log.parquet"
FINGERPRINT = ".fingerprint.json"


def prepare_output(out_dir: Path, method: str, config: MethodConfig) -> None:
    """Keep finished work only if it was made by this exact method configuration."""
    spec = registry.get(config.type)
    stamp = {"method": method, "type": config.type, "options": config.options, "version": spec.version}
    marker = out_dir / FINGERPRINT
    if marker.is_file() and json.loads(marker.read_text()) != stamp:
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    marker.write_text(json.dumps(stamp, sort_keys=True))


def restore_shard(
    method: str, config: MethodConfig, subset: str, lq: list[ImageRef], out_dir: Path, root: Path,
    device: str = "cpu", batch_size: int = 8, size: int = 512,
) -> list[dict]:
    """Restore one shard (the `lq` images of `subset`) into `out_dir`; return one log row per image.

    Images whose output already exists are not recomputed (their row says `resumed=True`).
    """
    spec = registry.get(config.type)
    todo = [ref for ref in lq if not _output(out_dir, ref).is_file()]
    rows = [_log(method, ref, "ok", resumed=True) for ref in lq if ref not in todo]
    if not todo:
        return rows
    if spec.kind == registry.SUBMISSION:
        return rows + _take_submission(method, config, todo, out_dir, root, size)
    restorer = registry.build(config.type, config.options, device)
    with progress(len(todo), f"restore {method}/{subset}") as advance:
        for start in range(0, len(todo), batch_size):
            batch = todo[start:start + batch_size]
            rows += _restore_batch(method, restorer, batch, out_dir, size)
            advance(len(batch))
    return rows


def _restore_batch(method, restorer, batch: list[ImageRef], out_dir: Path, size: int) -> list[dict]:
    images, refs, rows = [], [], []
    for ref in batch:
        try:
            images.append(read_rgb_checked(ref.path, (size, size)))
            refs.append(ref)
        except ImageError as err:
            rows.append(_log(method, ref, "failed", f"input: {err}"))
    if not refs:
        return rows
    try:
        outputs = restorer(images)
        if len(outputs) != len(refs):
            raise RuntimeError(f"returned {len(outputs)} images for {len(refs)} inputs")
    except Exception as err:  # noqa: BLE001 - a crashing method fails its images, never the run
        if len(refs) > 1:  # retry one by one so one bad image does not take its batch down
            return rows + [r for ref in refs for r in _restore_batch(method, restorer, [ref], out_dir, size)]
        return rows + [_log(method, refs[0], "failed", f"{type(err).__name__}: {err}")]
    for ref, out in zip(refs, outputs):
        if getattr(out, "shape", None) != (size, size, 3) or str(out.dtype) != "uint8":
            rows.append(_log(method, ref, "failed", f"output is {getattr(out, 'shape', type(out))} "
                                                    f"{getattr(out, 'dtype', '')}, expected ({size}, {size}, 3) uint8"))
            continue
        write_png_atomic(_output(out_dir, ref), out)
        rows.append(_log(method, ref, "ok"))
    return rows


def _take_submission(method, config, todo, out_dir, root, size) -> list[dict]:
    folder = root / config.options["path"]
    if not folder.is_dir():
        return [_log(method, ref, "failed", f"submission folder {folder} not found") for ref in todo]
    found = match(todo, list_images(folder))
    rows = [_log(method, ref, "failed", "missing from the submission") for ref in found.missing]
    for ref, submitted in found.pairs:
        try:
            write_png_atomic(_output(out_dir, ref), read_rgb_checked(submitted.path, (size, size)))
            rows.append(_log(method, ref, "ok"))
        except ImageError as err:
            rows.append(_log(method, ref, "failed", str(err)))
    return rows


def restore_method(
    method: str, config: MethodConfig, lq_dir: Path, out_dir: Path, root: Path,
    device: str = "cpu", batch_size: int = 8,
) -> pd.DataFrame:
    """All shards of one method, sequentially (the engine-free path); writes the restore log."""
    prepare_output(out_dir, method, config)
    refs = list_images(lq_dir)
    rows = []
    for subset, shard in by_subset(refs).items():
        rows += restore_shard(method, config, subset, shard, out_dir, root, device, batch_size)
    return write_log(out_dir, rows)


def write_log(out_dir: Path, rows: list[dict]) -> pd.DataFrame:
    """Write the log's reproducible columns (not `resumed`: outputs must not depend on history)."""
    log = pd.DataFrame(rows, columns=["method", "subset", "image", "status", "error", "resumed"])
    log.drop(columns="resumed").sort_values(["subset", "image"]).to_parquet(out_dir / LOG, index=False)
    return log


def _output(out_dir: Path, ref: ImageRef) -> Path:
    return out_dir / ref.subset / f"{ref.name}.png"


def _log(method: str, ref: ImageRef, status: str, error: str = "", resumed: bool = False) -> dict:
    return {"method": method, "subset": ref.subset, "image": ref.name, "status": status,
            "error": error, "resumed": resumed}


restore_shard_task = task(restore_shard, name="restore-shard", task_run_name="restore-{method}-{subset}")
