"""Method kinds and execution end to end on the sample (CPU): ntire, chain with a condition, isolation of
methods that fail to load, hang or lack weights, seeds, batch caps and the GPU lock."""

from __future__ import annotations

import json
import multiprocessing
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from faceboard.config import MethodConfig, SecurityConfig
from faceboard.imageio import read_rgb, to_batch, write_png_atomic
from faceboard.layout import list_images
from faceboard.methods import execution, registry
from tasks.restore import LOG, TMP_PREFIX, restore_method
from tests.conftest import ROOT, SAMPLE

LQ = SAMPLE / "lq"
TEAM_CODE_ON = SecurityConfig(team_code=True)


def _register(monkeypatch, name: str, entry: str, **fields) -> None:
    monkeypatch.setitem(registry.METHODS, name, registry.MethodSpec(name, registry.PYTHON, entry, "test", **fields))


def _two_subsets(tmp_path: Path) -> Path:
    lq = tmp_path / "lq"
    for subset in ("CelebA", "LFW-Test"):
        shutil.copytree(LQ / subset, lq / subset)
    return lq


# --- ntire ---

def test_ntire_code_runs_once_per_subset_folder_and_its_outputs_are_validated(tmp_path):
    model_dir = tmp_path / "model_zoo" / "team99"
    model_dir.mkdir(parents=True)
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:ntire_model",
                                                 "model_dir": str(model_dir)})
    out = tmp_path / "out"
    log = restore_method("team99", config, LQ, out, ROOT, security=TEAM_CODE_ON).set_index("image")
    calls = [json.loads(line) for line in (model_dir / "calls.jsonl").read_text().splitlines()]
    subsets = sorted({r.subset for r in list_images(LQ)})
    assert [sorted(c["files"]) for c in calls] == [sorted(p.name for p in (LQ / s).iterdir()) for s in subsets]
    assert all(Path(c["input"]).name == "input" and Path(c["cwd"]) == Path(c["input"]).parent for c in calls)
    assert all(c["pid"] != os.getpid() for c in calls)  # its own process, in its own working folder
    assert all(c["device"] == "torch.device:cpu" for c in calls)
    assert log.loc["163639", "status"] == "failed" and log.loc["163639", "error"] == "not written by the method"
    assert log.loc["0020", "status"] == "failed" and "wrong size: got 256x256" in log.loc["0020", "error"]
    ok = log[log["status"] == "ok"]
    assert len(ok) == 8 and (ok["stages"] == "ntire").all()
    restored = read_rgb(out / "CelebA" / "162798.png")
    assert restored.shape == (512, 512, 3) and not np.array_equal(restored, read_rgb(LQ / "CelebA" / "162798.png"))
    assert not list(out.glob(f"{TMP_PREFIX}*"))

    again = restore_method("team99", config, LQ, out, ROOT, security=TEAM_CODE_ON)  # only the two failed images are asked for again
    retried = [json.loads(line) for line in (model_dir / "calls.jsonl").read_text().splitlines()][len(calls):]
    assert sorted(f for c in retried for f in c["files"]) == ["0020.png", "163639.png"]
    assert all(Path(c["input"]).name == "input" for c in retried)  # a folder of just the images to do
    assert again["resumed"].sum() == 8


def test_ntire_rejects_unknown_options_and_a_missing_model_dir(tmp_path):
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:ntire_model",
                                                 "model_dir": str(tmp_path / "nowhere")})
    log = restore_method("team99", config, LQ, tmp_path / "out", ROOT, security=TEAM_CODE_ON)
    assert (log["status"] == "failed").all()
    assert log["error"].str.contains(f"could not load the method: FileNotFoundError: model_dir {tmp_path}/nowhere").all()
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:ntire_model", "steps": 4})
    log = restore_method("team99", config, LQ, tmp_path / "out", ROOT, security=TEAM_CODE_ON)
    assert log["error"].str.contains("unknown options for ntire: ['steps']", regex=False).all()


def test_a_hanging_ntire_call_times_out_and_what_it_wrote_is_kept(tmp_path):
    lq = _two_subsets(tmp_path)
    config = MethodConfig(type="ntire", options={"entry": "tests.method_entries:ntire_hangs_after_one"}, timeout_s=10)
    log = restore_method("team98", config, lq, tmp_path / "out", ROOT, security=TEAM_CODE_ON).set_index("image")
    assert log.loc["162798", "status"] == "ok"  # written before the hang
    assert log.loc["163639", "status"] == "failed" and log.loc["163639", "error"] == "timed out after 10 s"
    assert (log[log["subset"] == "LFW-Test"]["status"] == "ok").all()
    assert not multiprocessing.active_children()


def test_a_chain_runs_in_a_worker_process_too(tmp_path):
    lq = _two_subsets(tmp_path)
    config = MethodConfig(type="chain", options={"stages": [{"type": "lq"}, {"type": "lq"}]}, timeout_s=60)
    log = restore_method("chained", config, lq, tmp_path / "out", ROOT)
    assert (log["status"] == "ok").all() and (log["stages"] == "lq -> lq").all()


# --- chain ---

def test_chain_runs_a_stage_only_where_its_metric_condition_holds(tmp_path):
    from faceboard.metrics.table import load

    lq = _two_subsets(tmp_path)
    refs = list_images(lq)
    niqe = load("niqe", {}, "cpu")(to_batch([read_rgb(r.path) for r in refs]))
    threshold = float(np.median(niqe))
    stages = [{"type": "lq"},
              {"type": "opencv_nlm_sharpen", "options": {"search_window": 7}, "when": {"metric": "niqe", "above": threshold}}]
    config = MethodConfig(type="chain", options={"stages": stages})
    out = tmp_path / "out"
    log = restore_method("chained", config, lq, out, ROOT)
    assert (log["status"] == "ok").all()
    by_image = log.set_index("image")["stages"]
    for ref, score in zip(refs, niqe):
        unchanged = np.array_equal(read_rgb(out / ref.subset / f"{ref.name}.png"), read_rgb(ref.path))
        if score > threshold:
            assert by_image[ref.name] == "lq -> opencv_nlm_sharpen" and not unchanged
        else:
            assert by_image[ref.name] == "lq" and unchanged
    assert 0 < (niqe > threshold).sum() < len(refs)
    written = pd.read_parquet(out / LOG)
    again = restore_method("chained", config, lq, out, ROOT)
    assert again["resumed"].all()
    pd.testing.assert_frame_equal(pd.read_parquet(out / LOG), written)  # stages survive a resume


def test_a_chain_whose_condition_metric_cannot_run_fails_clearly(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    config = MethodConfig(type="chain", options={"stages": [{"type": "lq"},
                                                            {"type": "lq", "when": {"metric": "musiq", "below": 40}}]})
    log = restore_method("chained", config, LQ, tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all()
    error = log["error"].iloc[0]
    assert "chain stage 2 (lq)" in error and "musiq" in error and "missing musiq_koniq_ckpt-e95806b9.pth" in error


def test_a_chain_of_unknown_or_non_python_stages_fails_its_images(tmp_path):
    for stages, expected in (([{"type": "nope"}], "unknown method type 'nope'"),
                             ([{"type": "submission"}], "only python methods chain"),
                             ([{"type": "lq", "when": {"metric": "niqe"}}], "exactly one of `below` or `above`")):
        log = restore_method("c", MethodConfig(type="chain", options={"stages": stages}), LQ, tmp_path / "o", ROOT)
        assert (log["status"] == "failed").all() and log["error"].str.contains(expected, regex=False).all()


# --- isolation ---

def test_a_method_that_cannot_load_fails_its_images_and_the_next_method_runs(tmp_path, monkeypatch):
    _register(monkeypatch, "broken", "tests.method_entries:fails_to_load")
    log = restore_method("broken", MethodConfig(type="broken"), LQ, tmp_path / "broken", ROOT)
    assert (log["status"] == "failed").all()
    assert (log["error"] == "could not load the method: RuntimeError: checkpoint is corrupt").all()
    assert (restore_method("lq", MethodConfig(type="lq"), LQ, tmp_path / "lq", ROOT)["status"] == "ok").all()


def test_a_hanging_method_times_out_in_its_shard_only(tmp_path, monkeypatch, capsys):
    lq = _two_subsets(tmp_path)
    marked = lq / "CelebA" / "162798.png"
    image = read_rgb(marked)
    image[0, 0] = (255, 0, 0)
    write_png_atomic(marked, image)
    _register(monkeypatch, "hangs", "tests.method_entries:hangs_on_marked", batch_size=1)
    start = time.monotonic()
    log = restore_method("hangs", MethodConfig(type="hangs", timeout_s=5), lq, tmp_path / "out", ROOT)
    assert time.monotonic() - start < 60
    celeba, lfw = log[log["subset"] == "CelebA"], log[log["subset"] == "LFW-Test"]
    assert (celeba["status"] == "failed").all() and (celeba["error"] == "timed out after 5 s").all()
    assert (lfw["status"] == "ok").all()
    assert "failed (timed out after 5 s): CelebA/162798, CelebA/163639" in capsys.readouterr().out
    assert not multiprocessing.active_children()  # the hung worker was killed, the others closed


def test_missing_weights_fail_every_image_naming_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path / "cache"))
    _register(monkeypatch, "needs-adaface", "faceboard.methods.classic:identity", weights=("adaface_ir50_ms1mv2",))
    log = restore_method("needs-adaface", MethodConfig(type="needs-adaface"), LQ, tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all()
    error = log["error"].iloc[0]
    assert error.startswith("weights missing: adaface_ir50_ms1mv2.ckpt")
    assert "faceboard weights fetch adaface_ir50_ms1mv2" in error and "https://drive.google.com/" in error
    assert str(tmp_path / "cache" / "adaface" / "adaface_ir50_ms1mv2.ckpt") in error


# --- execution ---

def test_seeds_make_runs_repeatable_in_process_and_in_a_worker(tmp_path, monkeypatch):
    lq = _two_subsets(tmp_path)
    _register(monkeypatch, "noisy", "tests.method_entries:noisy")

    def outputs(out, **kw):
        restore_method("noisy", MethodConfig(type="noisy", **kw), lq, out, ROOT, seed=7)
        return {p.relative_to(out).as_posix(): read_rgb(p) for p in sorted(out.rglob("*.png"))}

    first, second = outputs(tmp_path / "a"), outputs(tmp_path / "b")
    worker = outputs(tmp_path / "c", timeout_s=120)
    assert first.keys() == second.keys() == worker.keys() and len(first) == 4
    for key in first:
        assert np.array_equal(first[key], second[key]) and np.array_equal(first[key], worker[key])
    assert execution.shard_seed(7, "CelebA") != execution.shard_seed(7, "LFW-Test")
    other = restore_method("noisy", MethodConfig(type="noisy"), lq, tmp_path / "d", ROOT, seed=8)
    assert (other["status"] == "ok").all()
    assert not np.array_equal(read_rgb(tmp_path / "d" / "CelebA" / "162798.png"), first["CelebA/162798.png"])


def test_a_method_batch_cap_wins_over_params_and_auto_picks_the_cpu_here(tmp_path, monkeypatch):
    _register(monkeypatch, "single", "tests.method_entries:one_at_a_time", batch_size=1)
    log = restore_method("single", MethodConfig(type="single"), LQ, tmp_path / "out", ROOT, device="auto", batch_size=8)
    assert (log["status"] == "ok").all()




def test_pick_device_keeps_cpu_without_importing_torch():
    code = "import sys; from faceboard.methods.execution import pick_device; assert pick_device('cpu') == 'cpu'; " \
           "assert 'torch' not in sys.modules"
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


@pytest.mark.gpu
def test_a_gpu_method_runs_on_cuda_in_process_and_in_a_worker(tmp_path, monkeypatch):
    torch = pytest.importorskip("torch")
    if not torch.cuda.is_available():
        pytest.skip("needs CUDA")
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path / "cache"))
    _register(monkeypatch, "inverts", "tests.method_entries:inverts_on_cuda", needs_gpu=True)
    lq = _two_subsets(tmp_path)
    for out, timeout in ((tmp_path / "a", None), (tmp_path / "b", 120)):
        log = restore_method("inverts", MethodConfig(type="inverts", timeout_s=timeout), lq, out, ROOT, device="auto")
        assert (log["status"] == "ok").all(), log["error"].tolist()
        for ref in list_images(lq):
            assert np.array_equal(read_rgb(out / ref.subset / f"{ref.name}.png"), 255 - read_rgb(ref.path))

