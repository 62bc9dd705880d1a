"""Stage `restore`: run one method over one dataset, shard by shard (method x subset).

Outputs are `<out>/<Subset>/<name>.png`, 512x512 RGB, written atomically; an image already restored
under the same method fingerprint is never redone. Each kind runs its own way (faceboard/methods/):
python and chain methods on batches, NTIRE code once per subset folder, submissions are validated and
copied. `restore_log.parquet` has one row per expected image (`ok` or `failed` with its error, and the
stages that ran) plus one `extra` row per unexpected file of a submission. A method that raises fails
its images; one that cannot load, lacks weights or hangs past `timeout_s` fails its shard; neither
stops other images, shards or methods.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.cache_policies import NO_CACHE

from faceboard.config import ArchiveLimits, MethodConfig, SecurityConfig
from faceboard.files import (
    remove_partial_writes,
    write_bytes_atomic,
    write_parquet_atomic,
)
from faceboard.imageio import ImageError, read_rgb_checked, write_png_atomic
from faceboard.layout import (
    FLAT_SUBSET,
    ImageRef,
    by_subset,
    content_digest,
    list_images,
    match,
    scan,
)
from faceboard.methods import execution, ntire, registry, submission
from faceboard.methods.chain import STAGE_SEPARATOR
from faceboard.progress import progress
from tasks.gpu import gpu_turn

LOG = "restore_log.parquet"
FINGERPRINT = ".fingerprint.json"
TMP_PREFIX = ".tmp-"  # working folders inside the output (same filesystem), removed on the next run
COLUMNS = ["method", "subset", "image", "status", "error", "stages", "resumed"]
SHOWN = 10  # names printed per problem in the summary (the log has them all)


def prepare_output(out_dir: Path, method: str, config: MethodConfig, lq: list[ImageRef],
                   root: Path = Path(".")) -> None:
    """Keep finished work only if it was made from these LQ images by this exact method configuration (and
    submitted content): switching datasets never keeps an output of an image that shares a name."""
    spec = registry.get(config.type, root)
    stamp = {"method": method, "type": config.type, "options": config.options, "version": spec.version,
             "inputs": content_digest(lq)}
    if spec.kind == registry.CHAIN:
        try:
            stamp["stage_versions"] = [part.version for part in execution.parts(spec, config.options, root)]
        except (KeyError, ValueError):
            stamp["stage_versions"] = None  # the shards fail every image with the reason
    if spec.kind == registry.SUBMISSION:
        stamp["content"] = submission.digest(submission.location(config.options, root))
    marker = out_dir / FINGERPRINT
    if marker.is_file() and json.loads(marker.read_text()) != stamp:
        shutil.rmtree(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    for leftover in out_dir.glob(f"{TMP_PREFIX}*"):
        shutil.rmtree(leftover)
    remove_partial_writes(out_dir)
    write_bytes_atomic(marker, json.dumps(stamp, sort_keys=True).encode())  # a kill never leaves half a marker


def restore_shard(
    method: str, config: MethodConfig, subset: str, lq: list[ImageRef], out_dir: Path, root: Path,
    device: str = "cpu", batch_size: int = 8, size: int = 512, seed: int = 0, security: SecurityConfig | None = None,
) -> list[dict]:
    """Restore one shard (the `lq` images of `subset`) into `out_dir`; return one log row per image.

    Images whose output already exists are not recomputed (their row says `resumed=True`). `security` (default:
    params.yaml's defaults) limits submitted archives and says whether team code may run.
    """
    security = security or SecurityConfig()
    spec = registry.get(config.type, root)
    todo = [ref for ref in lq if not _output(out_dir, ref).is_file()]
    rows = [_row(method, ref, "ok", stages=_stages_of_done(spec, out_dir, ref), resumed=True)
            for ref in lq if ref not in todo]
    if not todo:
        return rows
    if spec.kind == registry.SUBMISSION:
        return rows + _take_submission(method, config, todo, out_dir, root, size, security.archive)
    if spec.kind == registry.NTIRE:
        with progress(len(todo), f"restore {method}/{subset}") as advance:
            rows += _run_team_code(method, config, spec, todo, out_dir, root, device, size, security)
            advance(len(todo))
        return rows
    try:
        parts = execution.parts(spec, config.options, root)
    except (KeyError, ValueError) as err:  # a chain naming unknown or non-python stages
        return rows + _fail(method, todo, execution.describe(err))
    missing = execution.missing_weights(parts)
    if missing:
        return rows + _fail(method, todo, f"weights missing: {'; '.join(missing)}")
    job = execution.Job(spec, config.options, execution.pick_device(device), root)
    batch_size = min([batch_size, *(part.batch_size for part in parts if part.batch_size)])
    with progress(len(todo), f"restore {method}/{subset}") as advance:
        try:
            with execution.runner(job, config.timeout_s, execution.shard_seed(seed, subset)) as run:
                for start in range(0, len(todo), batch_size):
                    batch = todo[start:start + batch_size]
                    rows += _restore_batch(method, run, batch, out_dir, size, spec.kind == registry.CHAIN)
                    advance(len(batch))
        except execution.MethodFailed as err:  # the rest of the shard fails with the reason
            done = {row["image"] for row in rows}
            rows += _fail(method, [ref for ref in todo if ref.name not in done], str(err))
    return rows


def _restore_batch(method, run, batch: list[ImageRef], out_dir: Path, size: int, chain: bool) -> list[dict]:
    images, refs, rows = [], [], []
    for ref in batch:
        try:
            images.append(read_rgb_checked(ref.path, (size, size)))
            refs.append(ref)
        except ImageError as err:
            rows.append(_row(method, ref, "failed", f"input: {err}"))
    if not refs:
        return rows
    try:
        outputs, stages = run(images)
        if len(outputs) != len(refs):
            raise RuntimeError(f"returned {len(outputs)} images for {len(refs)} inputs")
    except execution.MethodFailed:
        raise
    except Exception as err:  # noqa: BLE001 - a crashing method fails its images, never the run
        if len(refs) > 1:  # retry one by one so one bad image does not take its batch down
            return rows + [r for ref in refs for r in _restore_batch(method, run, [ref], out_dir, size, chain)]
        return rows + [_row(method, refs[0], "failed", execution.describe(err))]
    for ref, out, ran in zip(refs, outputs, stages):
        if getattr(out, "shape", None) != (size, size, 3) or str(out.dtype) != "uint8":
            rows.append(_row(method, ref, "failed", f"output is {getattr(out, 'shape', type(out))} "
                                                    f"{getattr(out, 'dtype', '')}, expected ({size}, {size}, 3) uint8"))
            continue
        if chain:  # which stages ran cannot be recomputed on resume: kept beside the image
            write_bytes_atomic(_stages_file(out_dir, ref), STAGE_SEPARATOR.join(ran).encode())
        write_png_atomic(_output(out_dir, ref), out)
        rows.append(_row(method, ref, "ok", stages=STAGE_SEPARATOR.join(ran)))
    return rows


def _run_team_code(method, config: MethodConfig, spec: registry.MethodSpec, todo: list[ImageRef], out_dir: Path,
                   root: Path, device: str, size: int, security: SecurityConfig) -> list[dict]:
    """The team's model_func on a copy of the images to do, in its own process and working folder; then take what
    it wrote (even after a failure or a timeout), decoded strictly as images."""
    if not security.team_code:
        return _fail(method, todo, ntire.TEAM_CODE_OFF)
    missing = execution.missing_weights([spec])
    if missing:
        return _fail(method, todo, f"weights missing: {'; '.join(missing)}")
    with tempfile.TemporaryDirectory(dir=out_dir, prefix=TMP_PREFIX) as work:
        inputs, produced = Path(work) / "input", Path(work) / "output"
        inputs.mkdir()
        produced.mkdir()
        for ref in todo:
            shutil.copyfile(ref.path, inputs / ref.path.name)
        reason = "not written by the method"
        try:
            ntire.run_isolated(config.type, config.options, execution.pick_device(device), root, inputs, produced,
                               Path(work), config.timeout_s or security.team_code_timeout_s)
        except ntire.TeamCodeFailed as err:  # what it wrote before failing is still taken
            reason = str(err)
        return _adopt(method, todo, produced, out_dir, size, reason, stages=spec.name)


def _take_submission(method, config, todo: list[ImageRef], out_dir: Path, root: Path, size: int,
                     limits: ArchiveLimits) -> list[dict]:
    try:
        folder = submission.outputs_folder(submission.location(config.options, root), limits)
    except (OSError, ValueError) as err:
        return _fail(method, todo, str(err))
    return _adopt(method, todo, folder, out_dir, size, "missing from the submission", stages="")


def _adopt(method, todo: list[ImageRef], folder: Path, out_dir: Path, size: int, missing: str,
           stages: str) -> list[dict]:
    """Validate a folder of outputs against the expected images and take the good ones (atomically)."""
    try:
        found = scan(folder)
        paired = match(todo, found.images)
    except ValueError as err:
        return _fail(method, todo, str(err))
    duplicated = set(found.duplicates)
    rows = [_row(method, ref, "failed", "submitted under several file extensions"
                 if f"{ref.subset}/{ref.name}" in duplicated else missing) for ref in paired.missing]
    for ref, given in paired.pairs:
        try:
            write_png_atomic(_output(out_dir, ref), read_rgb_checked(given.path, (size, size)))
            rows.append(_row(method, ref, "ok", stages=stages))
        except ImageError as err:
            rows.append(_row(method, ref, "failed", f"{given.path.relative_to(folder).as_posix()}: {err.problem}"))
    return rows


def restore_method(
    method: str, config: MethodConfig, lq_dir: Path, out_dir: Path, root: Path,
    device: str = "cpu", batch_size: int = 8, seed: int = 0, security: SecurityConfig | None = None,
) -> pd.DataFrame:
    """All shards of one method, sequentially (the engine-free path); writes and summarises the log."""
    refs = list_images(lq_dir)
    prepare_output(out_dir, method, config, refs, root)
    rows = []
    for subset, shard in by_subset(refs).items():
        rows += restore_shard(method, config, subset, shard, out_dir, root, device, batch_size, seed=seed,
                              security=security)
    return finish(method, config, refs, out_dir, root, rows, security)


def finish(method: str, config: MethodConfig, expected: list[ImageRef], out_dir: Path, root: Path,
           rows: list[dict], security: SecurityConfig | None = None) -> pd.DataFrame:
    """After the last shard: free the model, add a submission's extra files, write and print the log."""
    execution.release()
    if registry.get(config.type, root).kind == registry.SUBMISSION:
        rows = rows + _extras(method, config, expected, root, (security or SecurityConfig()).archive)
    log = write_log(out_dir, rows)
    print(summary(method, log, out_dir))
    return log


def _extras(method, config, expected: list[ImageRef], root: Path, limits: ArchiveLimits) -> list[dict]:
    """One `extra` row per submitted file that is not an expected image (always listed, so the log is stable)."""
    try:
        folder = submission.outputs_folder(submission.location(config.options, root), limits)
        found = scan(folder)
        extra = match(expected, found.images).extra
    except (OSError, ValueError):
        return []  # the shards already failed every image with the reason
    rows = [_row(method, ref, "extra", f"{ref.path.relative_to(folder).as_posix()}: not an expected image; ignored")
            for ref in extra]
    for path in found.ignored:
        rel = path.relative_to(folder)
        subset = rel.parts[0] if len(rel.parts) > 1 else FLAT_SUBSET
        rows.append(_row(method, ImageRef(subset, path.name, path), "extra",
                         f"{rel.as_posix()}: not an image at <Subset>/<name>.png; ignored"))
    return rows


def write_log(out_dir: Path, rows: list[dict]) -> pd.DataFrame:
    """Write the log's reproducible columns (not `resumed`: outputs must not depend on history)."""
    log = pd.DataFrame(rows, columns=COLUMNS)
    log = log.sort_values(["subset", "image", "status"], kind="stable").reset_index(drop=True)
    write_parquet_atomic(out_dir / LOG, log.drop(columns="resumed"))
    return log


def summary(method: str, log: pd.DataFrame, out_dir: Path) -> str:
    """`restore M: N ok, F failed, E extra -> OUT`, then each problem with the images it hit."""
    counts = log["status"].value_counts()
    head = ", ".join(f"{counts.get(status, 0)} {status}" for status in ("ok", "failed", "extra")
                     if status == "ok" or counts.get(status, 0))
    lines = [f"restore {method}: {head} -> {out_dir}"]
    for (status, error), group in log[log["status"] != "ok"].groupby(["status", "error"], sort=True):
        names = [f"{s}/{n}" for s, n in zip(group["subset"], group["image"])]
        more = f" and {len(names) - SHOWN} more" if len(names) > SHOWN else ""
        lines.append(f"  {status} ({error}): {', '.join(names[:SHOWN])}{more}")
    return "\n".join(lines)


def _stages_of_done(spec: registry.MethodSpec, out_dir: Path, ref: ImageRef) -> str:
    if spec.kind == registry.CHAIN:
        path = _stages_file(out_dir, ref)
        return path.read_text() if path.is_file() else ""
    return "" if spec.kind == registry.SUBMISSION else spec.name


def _output(out_dir: Path, ref: ImageRef) -> Path:
    return out_dir / ref.subset / f"{ref.name}.png"


def _stages_file(out_dir: Path, ref: ImageRef) -> Path:
    return out_dir / ref.subset / f".{ref.name}.stages"


def _fail(method: str, refs: list[ImageRef], error: str) -> list[dict]:
    return [_row(method, ref, "failed", error) for ref in refs]


def _row(method: str, ref: ImageRef, status: str, error: str = "", stages: str = "", resumed: bool = False) -> dict:
    return {"method": method, "subset": ref.subset, "image": ref.name, "status": status,
            "error": error, "stages": stages, "resumed": resumed}


@task(name="restore-shard", task_run_name="restore-{method}-{subset}", cache_policy=NO_CACHE)
def restore_shard_task(method: str, config: MethodConfig, subset: str, lq: list[ImageRef], out_dir: Path, root: Path,
                       device: str, batch_size: int, seed: int, gpu_slots: int = 1,
                       security: SecurityConfig | None = None) -> list[dict]:
    """One shard, taking its turn on a GPU (tasks/gpu.py)."""
    with gpu_turn(device, gpu_slots):
        return restore_shard(method, config, subset, lq, out_dir, root, device, batch_size, seed=seed,
                             security=security)
