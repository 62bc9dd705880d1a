"""Writes that fail and runs that collide: a full disk stops the command with the file it could not write and
leaves every earlier result intact (and nothing half-written); a second run on the same project, or on the same
`faceboard score` folder, stops at once naming the first, which finishes undisturbed.

A full disk is made real with RLIMIT_FSIZE in a child process: the kernel then fails any write past the limit
(EFBIG), exactly where a full disk would fail it (ENOSPC), and faceboard treats both the same.
"""

from __future__ import annotations

import json
import resource
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd
import pytest
import yaml

from faceboard import runlock
from faceboard.catalog import BoardFiles, Catalog
from faceboard.config import MethodConfig, load_params
from faceboard.env import with_venv_on_path
from faceboard.files import PARTIAL_WRITE
from tasks.restore import LOG, restore_method
from tests.boards import page_board
from tests.conftest import FACEBOARD, ROOT, SAMPLE, copy_project
from tests.faults.snapshot import checksums, unchanged

METHOD = "opencv_nlm_sharpen"


def _small_disk(limit: int):
    """A child's preexec: no file may grow past `limit` bytes (the write fails with EFBIG, not a signal)."""
    def limit_writes() -> None:
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, limit))
    return limit_writes


def test_a_full_disk_stops_faceboard_report_naming_the_file_and_keeps_the_earlier_page(tmp_path):
    board = page_board(tmp_path / "board", SAMPLE / "lq", load_params(ROOT / "params.yaml"))
    page = tmp_path / "site" / "leaderboard.html"
    command = [*FACEBOARD, "report", "--board", str(board.folder), "--out", str(page)]
    subprocess.run(command, cwd=tmp_path, check=True, capture_output=True)
    before = checksums(tmp_path)
    done = subprocess.run(command, cwd=tmp_path, capture_output=True, text=True, check=False,
                          preexec_fn=_small_disk(64 << 10))
    assert done.returncode == 74, done.stderr
    assert f"faceboard: error: cannot write {page}: File too large. Finished work is kept" in done.stderr
    assert "free space, then run the same command again" in done.stderr and "Traceback" not in done.stderr
    assert unchanged(before, tmp_path) == [] and set(checksums(tmp_path)) == set(before)  # no temp file left


def test_a_full_disk_in_the_middle_of_a_restore_loses_nothing_and_the_rerun_finishes(tmp_path):
    lq, out = tmp_path / "lq", tmp_path / "out"
    for subset in ("CelebA", "LFW-Test"):
        shutil.copytree(SAMPLE / "lq" / subset, lq / subset)
    restore_method(METHOD, MethodConfig(type=METHOD), lq, out, ROOT)
    shutil.rmtree(out / "LFW-Test")
    (out / LOG).unlink()
    before = checksums(out)  # CelebA restored earlier, LFW-Test still to do
    script = ("import sys; from pathlib import Path; from faceboard.config import MethodConfig; "
              "from tasks.restore import restore_method; "
              f"restore_method({METHOD!r}, MethodConfig(type={METHOD!r}), Path(sys.argv[1]), Path(sys.argv[2]), "
              f"Path({str(ROOT)!r}))")
    done = subprocess.run([sys.executable, "-c", script, str(lq), str(out)], cwd=ROOT, capture_output=True,
                          text=True, check=False, preexec_fn=_small_disk(100 << 10))  # a PNG: ~400 kB
    assert done.returncode != 0
    assert "OSError: [Errno 27] File too large: " in done.stderr and f"{out}/LFW-Test/" in done.stderr
    assert unchanged(before, out) == []
    assert not list(out.rglob(PARTIAL_WRITE)) and not list((out / "LFW-Test").glob("*.png"))  # nothing half-written

    log = restore_method(METHOD, MethodConfig(type=METHOD), lq, out, ROOT)  # space again: it goes on
    assert (log["status"] == "ok").all() and len(log) == 4
    assert log["resumed"].sum() == 2 and unchanged(before, out) == []


def _stage(project: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen([*FACEBOARD, "stage", *args], cwd=project, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env=_outside_any_lock())


def _outside_any_lock() -> dict[str, str]:
    env = with_venv_on_path()
    env.pop(runlock.HELD, None)
    return env


@pytest.mark.slow
def test_two_runs_on_one_project_the_second_stops_at_once_and_the_first_finishes(tmp_path):
    project = copy_project(tmp_path / "project")
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["device"] = "cpu"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    fetched = _stage(project, "fetch")
    assert fetched.wait(300) == 0, fetched.communicate()
    cat = Catalog(project)
    dataset = checksums(cat.dataset(params["dataset"]))

    first = _stage(project, "restore", METHOD)
    holder = cat.run_lock.with_suffix(".holder.json")
    deadline = time.monotonic() + 120
    while not holder.is_file() or json.loads(holder.read_text())["pid"] != first.pid:
        assert first.poll() is None and time.monotonic() < deadline, first.communicate()
        time.sleep(0.05)
    started = time.monotonic()
    second = _stage(project, "score", METHOD)
    out, err = second.communicate(timeout=120)
    assert second.returncode == 75, out + err
    assert f"`faceboard stage restore {METHOD}` (pid {first.pid}, since " in err and f"is already running on {project}" in err
    assert not cat.scores(METHOD).folder.exists() and time.monotonic() - started < 60
    assert first.poll() is None  # the first run was still going when the second gave up

    out, err = first.communicate(timeout=600)
    assert first.returncode == 0, out + err
    log = pd.read_parquet(cat.restored(METHOD) / LOG)
    assert len(log) == 10 and (log["status"] == "ok").all()
    assert unchanged(dataset, cat.dataset(params["dataset"])) == []
    alone = restore_method(METHOD, MethodConfig(type=METHOD), cat.dataset_lq(params["dataset"]), tmp_path / "alone", ROOT)
    assert (alone["status"] == "ok").all()
    ours = {k: v for k, v in checksums(cat.restored(METHOD)).items() if not k.startswith(".")}
    theirs = {k: v for k, v in checksums(tmp_path / "alone").items() if not k.startswith(".")}
    assert ours == theirs  # undisturbed: byte for byte what it makes alone


def test_faceboard_score_stops_at_once_while_another_writes_the_same_folder(tmp_path):
    out = BoardFiles(tmp_path / "out")
    out.folder.mkdir()
    (out.folder / "leaderboard.parquet").write_bytes(b"an earlier board")
    before = checksums(out.folder)
    holder = subprocess.Popen([sys.executable, "-c", (
        "import sys, time; from pathlib import Path; from faceboard import runlock; "
        "lock = runlock.exclusive(Path(sys.argv[1]), Path(sys.argv[2])); lock.__enter__(); print('held', flush=True); "
        "time.sleep(120)"), str(out.lock), str(out.folder)], stdout=subprocess.PIPE, text=True, env=_outside_any_lock())
    try:
        assert holder.stdout.readline().strip() == "held"
        started = time.monotonic()
        done = subprocess.run([*FACEBOARD, "score", str(SAMPLE / "submissions" / "team15_NAFNet"), "--metrics", "niqe",
                               "--out", str(out.folder)], cwd=ROOT, capture_output=True, text=True,
                              env=_outside_any_lock(), timeout=120, check=False)
    finally:
        holder.kill()
        holder.wait()
    assert done.returncode == 75 and f"is already running on {out.folder}" in done.stderr, done.stderr
    assert time.monotonic() - started < 30
    after = {k: v for k, v in checksums(out.folder).items() if not k.startswith(".faceboard")}
    assert after == before  # nothing written beside the holder (its lock files aside)
