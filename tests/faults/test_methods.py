"""Methods that misbehave: a crash, NaNs, the wrong shape and a hang fail only their own images, on every run,
and never touch what was restored before; a team's code runs only when permitted, in its own process and
working folder, is killed with everything it started, and nothing it writes is ever unpickled."""

from __future__ import annotations

import os
import shutil
import time
from pathlib import Path

import pytest

from faceboard.config import MethodConfig, SecurityConfig
from faceboard.imageio import read_rgb, write_png_atomic
from faceboard.methods import registry
from tasks.restore import restore_method
from tests.conftest import ROOT, SAMPLE
from tests.faults.snapshot import checksums, unchanged
from tests.method_entries import MARKS

LQ = SAMPLE / "lq"
FAULT_OF = {"CelebA/163639": "crash", "LFW-Test/Alex_Penelas_0001_00": "nan", "WebPhoto-Test/00000_01": "shape",
            "Wider-Test/0024": "hang"}
ERRORS = {"crash": "RuntimeError: CUDA error: an illegal memory access was encountered",
          "nan": "output is (512, 512, 3) float32, expected (512, 512, 3) uint8",
          "shape": "output is (256, 512, 3) uint8, expected (512, 512, 3) uint8",
          "hang": "timed out after 20 s"}
TEAM_CODE_ON = SecurityConfig(team_code=True)


@pytest.fixture
def marked_lq(tmp_path) -> Path:
    """The sample's LQ faces with one image per fault marked in its top-left pixel."""
    lq = tmp_path / "lq"
    shutil.copytree(LQ, lq)
    colour = {fault: mark for mark, fault in MARKS.items()}
    for key, fault in FAULT_OF.items():
        path = lq / f"{key}.png"
        image = read_rgb(path)
        image[0, 0] = colour[fault]
        write_png_atomic(path, image)
    return lq


def test_crash_nan_wrong_shape_and_hang_fail_only_their_images_and_a_rerun_keeps_the_rest(marked_lq, tmp_path,
                                                                                         monkeypatch):
    monkeypatch.setitem(registry.METHODS, "faulty", registry.MethodSpec(
        "faulty", registry.PYTHON, "tests.method_entries:faulty", "test", batch_size=1))
    config = MethodConfig(type="faulty", timeout_s=20)  # in a watched worker process: the hang is killed
    out, neighbour = tmp_path / "out", tmp_path / "other_method"
    restore_method("lq", MethodConfig(type="lq"), marked_lq, neighbour, ROOT)
    untouched = checksums(neighbour)

    log = restore_method("faulty", config, marked_lq, out, ROOT).set_index(["subset", "image"])
    errors = {f"{s}/{i}": e for (s, i), e in log["error"].items() if e}
    assert errors == {key: ERRORS[fault] for key, fault in FAULT_OF.items()}
    assert (log["status"] == "ok").sum() == 10 - len(FAULT_OF)
    assert not any((out / f"{key}.png").exists() for key in FAULT_OF)

    done = checksums(out)
    again = restore_method("faulty", config, marked_lq, out, ROOT).set_index(["subset", "image"])
    assert unchanged(done, out) == [] and unchanged(untouched, neighbour) == []
    assert again["resumed"].sum() == 10 - len(FAULT_OF)  # finished images not redone, failed ones tried again
    assert {f"{s}/{i}": e for (s, i), e in again["error"].items() if e} == errors


def test_team_code_is_off_unless_params_allow_it(tmp_path):
    model_dir = tmp_path / "team"
    model_dir.mkdir()
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:ntire_model", "model_dir": str(model_dir)})
    log = restore_method("team99", config, LQ, tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all()
    assert log["error"].str.startswith("team code is off").all() and "security.team_code: true" in log["error"][0]
    assert not (model_dir / "calls.jsonl").exists()  # never imported, never called


def test_team_code_that_dies_is_killed_with_its_children_and_its_stray_writes_go_away(tmp_path):
    model_dir = tmp_path / "team"
    model_dir.mkdir()
    lq = tmp_path / "lq"
    shutil.copytree(LQ / "CelebA", lq / "CelebA")
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:team_dies", "model_dir": str(model_dir)})
    cwd = Path.cwd()
    log = restore_method("team97", config, lq, tmp_path / "out", ROOT, security=TEAM_CODE_ON).set_index("image")
    assert log.loc["162798", "status"] == "ok"  # what it wrote before dying is taken
    assert log.loc["163639", "error"] == "the team's process ended (exit status 3)"
    grandchild = int((model_dir / "grandchild.pid").read_text())
    deadline = time.monotonic() + 10
    while _alive(grandchild) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not _alive(grandchild)
    assert not (cwd / "stray.txt").exists() and not (ROOT / "stray.txt").exists()
    assert not list((tmp_path / "out").glob(".tmp-*"))  # its working folder, with the stray file, is gone


def test_nothing_a_team_writes_is_unpickled(tmp_path):
    model_dir = tmp_path / "team"
    model_dir.mkdir()
    lq = tmp_path / "lq"
    shutil.copytree(LQ / "CelebA", lq / "CelebA")
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:team_writes_a_pickle",
                                                 "model_dir": str(model_dir)})
    log = restore_method("team96", config, lq, tmp_path / "out", ROOT, security=TEAM_CODE_ON).set_index("image")
    assert log.loc["162798", "status"] == "failed" and "not an image: no readable image header" in log.loc["162798", "error"]
    assert not (model_dir / "unpickled").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as stat:  # a zombie (killed, not yet reaped by init) is not running
        return stat.read().split(")")[-1].split()[0] != "Z"
