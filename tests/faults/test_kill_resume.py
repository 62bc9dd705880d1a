"""A run SIGKILLed in the middle of a restore and of a score stage: the rerun redoes no finished image and
gives the same outputs as an uninterrupted run.

Two fresh copies of the project: `clean` runs restore and score of one method straight through; `killed`
has each stage killed (the whole process group, Prefect's server included) once some but not all of its
images are done, then reruns it. `batch_size: 1` in both copies, so outputs (restore) and cache entries
(score) land one image at a time and the kill can fall inside a shard. Not redone is observed on disk:
every file written before the kill keeps its inode and mtime (faceboard writes a new file each time, by
os.replace), the rerun's restore progress counts only the missing images, and the rerun adds to the
metric and embedding cache exactly the entries the kill left missing. Each stage runs in its own process
(Prefect's start-up, the models' load), so this module takes a minute or two.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import pytest
import yaml

from faceboard.catalog import Catalog
from faceboard.env import with_venv_on_path
from tests.conftest import copy_project

pytestmark = pytest.mark.slow

METHOD = "opencv_nlm_sharpen"
DATASET = "ntire2025-val-sample"
IMAGES = 10  # the embedded sample: 5 subsets x 2


def stage(project: Path, *args: str) -> subprocess.CompletedProcess:
    done = subprocess.run([sys.executable, "-m", "faceboard.cli", "stage", *args], cwd=project,
                          capture_output=True, text=True, env=with_venv_on_path(), check=False)
    assert done.returncode == 0, f"stage {' '.join(args)} failed:\n{done.stdout}\n{done.stderr}"
    return done


def killed_midway(project: Path, args: tuple[str, ...], done: Callable[[], int], at: int, total: int) -> int:
    """Run `stage *args` in its own session, SIGKILL its process group as soon as `done()` (units of work
    finished, on disk) reaches `at`, and return `done()` after the kill (checked to be short of `total`)."""
    log = project / "killed.log"
    with log.open("w") as out:
        proc = subprocess.Popen([sys.executable, "-m", "faceboard.cli", "stage", *args], cwd=project,
                                stdout=out, stderr=subprocess.STDOUT, env=with_venv_on_path(),
                                start_new_session=True)
        deadline = time.monotonic() + 300
        try:
            while done() < at:
                assert proc.poll() is None, f"stage {' '.join(args)} ended before the kill:\n{log.read_text()}"
                assert time.monotonic() < deadline, f"stage {' '.join(args)} too slow:\n{log.read_text()}"
                time.sleep(0.005)
            os.killpg(proc.pid, signal.SIGKILL)
        finally:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
    assert proc.returncode == -signal.SIGKILL, log.read_text()
    finished = done()
    assert at <= finished < total, f"killed with {finished} of {total} done: not in the middle of the stage"
    return finished


def files(folder: Path, pattern: str = "**/*") -> dict[str, Path]:
    return {p.relative_to(folder).as_posix(): p for p in sorted(folder.glob(pattern)) if p.is_file()}


def digests(folder: Path, pattern: str = "**/*") -> dict[str, str]:
    return {rel: hashlib.sha256(p.read_bytes()).hexdigest() for rel, p in files(folder, pattern).items()}


def stamps(paths: dict[str, Path]) -> dict[str, tuple[int, int]]:
    """(inode, mtime) of each file: a rewrite (write to a temp file, os.replace) changes both."""
    return {rel: (p.stat().st_ino, p.stat().st_mtime_ns) for rel, p in paths.items()}


def leftover(path: Path) -> None:
    """What a kill inside faceboard.files.write_bytes_atomic leaves beside `path` (the window is short, so the
    test does not wait for a kill to land there): a hidden temp file with part of the bytes."""
    path.parent.mkdir(parents=True, exist_ok=True)
    path.with_name(f".{path.name}.0123456789ab.tmp").write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(100))


def new_copy(folder: Path) -> Path:
    project = copy_project(folder)
    params = yaml.safe_load((project / "params.yaml").read_text())
    assert params["dataset"] == DATASET and METHOD in params["methods"]
    params["batch_size"] = 1  # one image per method call and per scoring chunk: the kill can fall mid-shard
    params["device"] = "cpu"  # the same pace (and values) on any machine
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return project


@pytest.fixture(scope="module")
def clean(tmp_path_factory) -> Path:
    """The uninterrupted run: fetch, restore, score."""
    project = new_copy(tmp_path_factory.mktemp("clean"))
    for args in (("fetch",), ("restore", METHOD), ("score", METHOD)):
        stage(project, *args)
    return project


@pytest.fixture(scope="module")
def killed(clean, tmp_path_factory) -> dict:
    """The same stages, each SIGKILLed midway then rerun; what was on disk at each kill, and the reruns' output."""
    project = new_copy(tmp_path_factory.mktemp("killed"))
    shutil.copytree(Catalog(clean).dataset(DATASET), Catalog(project).dataset(DATASET))  # what fetch made
    cat = Catalog(project)
    record: dict = {"project": project}

    restored = cat.restored(METHOD)
    def outputs() -> int:
        return len(files(restored, "*/*.png"))

    record["restored"] = killed_midway(project, ("restore", METHOD), outputs, at=3, total=IMAGES)
    assert not (restored / "restore_log.parquet").exists()
    record["restore_before"] = stamps(files(restored, "*/*.png"))
    leftover(restored / "Wider-Test" / "0024.png")
    record["restore_rerun"] = stage(project, "restore", METHOD)

    entries = len(files(Catalog(clean).cache, "**/*.npy"))

    def cached() -> int:
        return len(files(cat.cache, "**/*.npy"))

    record["cached"] = killed_midway(project, ("score", METHOD), cached, at=entries // 3, total=entries)
    assert not cat.scores(METHOD).per_image.exists()
    record["score_before"] = stamps(files(cat.cache, "**/*.npy"))
    leftover(cat.scores(METHOD).per_image)
    record["score_rerun"] = stage(project, "score", METHOD)
    return record


def test_restore_rerun_redoes_no_finished_image(killed):
    project = killed["project"]
    restored = Catalog(project).restored(METHOD)
    before = killed["restore_before"]
    assert len(before) == killed["restored"]
    after = stamps(files(restored, "*/*.png"))
    assert len(after) == IMAGES
    assert {rel: after[rel] for rel in before} == before  # not rewritten
    # progress: `restore M/Subset: N images in S s` per shard with images left to do, N counting only those
    redone = {m[1]: int(m[2]) for m in re.finditer(rf"^restore {METHOD}/(\S+): (\d+) images in",
                                                    killed["restore_rerun"].stderr, re.MULTILINE)}
    assert redone == Counter(rel.split("/")[0] for rel in set(after) - set(before))
    assert sum(redone.values()) == IMAGES - len(before)
    assert f"restore {METHOD}: {IMAGES} ok" in killed["restore_rerun"].stdout


def test_restore_rerun_gives_the_uninterrupted_outputs(clean, killed):
    ours, theirs = Catalog(killed["project"]).restored(METHOD), Catalog(clean).restored(METHOD)
    # every file of the stage's DVC output, hidden ones included (a temp file left by the kill would show)
    assert digests(ours) == digests(theirs)
    pd.testing.assert_frame_equal(pd.read_parquet(ours / "restore_log.parquet"),
                                  pd.read_parquet(theirs / "restore_log.parquet"))


def test_score_rerun_computes_only_what_the_kill_left(clean, killed):
    cache = Catalog(killed["project"]).cache
    before = killed["score_before"]
    assert len(before) == killed["cached"]
    after = stamps(files(cache, "**/*.npy"))
    assert {rel: after[rel] for rel in before} == before  # no value computed before the kill is computed again
    # the rerun added exactly the missing entries: the uninterrupted run's cache, entry for entry
    assert digests(cache, "**/*.npy") == digests(Catalog(clean).cache, "**/*.npy")
    assert len(after) > len(before)


def test_score_rerun_gives_the_uninterrupted_scores(clean, killed):
    ours, theirs = Catalog(killed["project"]).scores(METHOD), Catalog(clean).scores(METHOD)
    per_image = pd.read_parquet(ours.per_image)
    assert len(per_image) == IMAGES and (per_image["status"] == "ok").all()
    pd.testing.assert_frame_equal(per_image, pd.read_parquet(theirs.per_image))
    assert json.loads(ours.set_metrics.read_text()) == json.loads(theirs.set_metrics.read_text())
    assert digests(ours.folder) == digests(theirs.folder)  # the whole DVC output, byte for byte
