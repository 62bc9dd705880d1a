"""The restore stage as a plain function: resume, isolation of bad images and crashing methods, submissions."""

from __future__ import annotations

import shutil

import numpy as np
import pandas as pd
import pytest

from faceboard.config import MethodConfig
from faceboard.imageio import read_rgb
from faceboard.layout import list_images
from faceboard.methods import registry
from tasks.restore import LOG, restore_method, restore_shard
from tests.conftest import ROOT, SAMPLE

LQ = SAMPLE / "lq"


def test_lq_copies_inputs_exactly_and_resumes(tmp_path):
    out = tmp_path / "lq"
    log = restore_method("lq", MethodConfig(type="lq"), LQ, out, ROOT)
    assert (log["status"] == "ok").all() and len(log) == 10 and (log["stages"] == "lq").all()
    for ref in list_images(LQ):
        assert np.array_equal(read_rgb(out / ref.subset / f"{ref.name}.png"), read_rgb(ref.path))
    written = pd.read_parquet(out / LOG)
    stamp = (out / "CelebA" / "162798.png").stat().st_mtime_ns
    again = restore_method("lq", MethodConfig(type="lq"), LQ, out, ROOT)
    assert again["resumed"].all() and (again["status"] == "ok").all()
    assert (out / "CelebA" / "162798.png").stat().st_mtime_ns == stamp
    pd.testing.assert_frame_equal(pd.read_parquet(out / LOG), written)  # history leaves no trace in outputs


def test_changed_options_discard_stale_outputs(tmp_path):
    out = tmp_path / "cv"
    restore_method("cv", MethodConfig(type="opencv_nlm_sharpen", options={"h": 3}), LQ, out, ROOT)
    first = read_rgb(out / "CelebA" / "162798.png")
    log = restore_method("cv", MethodConfig(type="opencv_nlm_sharpen", options={"h": 12}), LQ, out, ROOT)
    assert (log["status"] == "ok").all()
    assert not np.array_equal(first, read_rgb(out / "CelebA" / "162798.png"))


def test_classic_restorer_changes_pixels_but_keeps_size(tmp_path):
    out = tmp_path / "cv"
    restore_method("cv", MethodConfig(type="opencv_nlm_sharpen"), LQ, out, ROOT)
    restored = read_rgb(out / "CelebA" / "162798.png")
    original = read_rgb(LQ / "CelebA" / "162798.png")
    assert restored.shape == (512, 512, 3)
    assert np.abs(restored.astype(int) - original.astype(int)).mean() > 1.0


def _register(monkeypatch, name, factory_path):
    spec = registry.MethodSpec(name, registry.PYTHON, factory_path, "test method")
    monkeypatch.setitem(registry.METHODS, name, spec)


def crashing_on_celeba(options, device):
    def restore(images):
        if any(im[0, 0, 0] == 255 for im in images):
            raise RuntimeError("boom")
        return images
    return restore


def wrong_size(options, device):
    return lambda images: [im[:256, :256] for im in images]


def test_a_crashing_method_fails_only_its_images(tmp_path, monkeypatch):
    lq = tmp_path / "lq"
    shutil.copytree(LQ, lq)
    poisoned = lq / "CelebA" / "162798.png"
    image = read_rgb(poisoned)
    image[0, 0] = 255
    from faceboard.imageio import write_png_atomic

    write_png_atomic(poisoned, image)
    (lq / "Wider-Test" / "0020.png").write_bytes(b"not a png")
    _register(monkeypatch, "crashy", "tests.test_restore:crashing_on_celeba")
    log = restore_method("crashy", MethodConfig(type="crashy"), lq, tmp_path / "out", ROOT).set_index("image")
    assert log.loc["162798", "status"] == "failed" and "boom" in log.loc["162798", "error"]
    assert log.loc["0020", "status"] == "failed" and log.loc["0020", "error"].startswith("input:")
    assert (log.drop(["162798", "0020"])["status"] == "ok").all()
    assert not (tmp_path / "out" / "CelebA" / "162798.png").exists()


def test_wrong_sized_outputs_are_rejected(tmp_path, monkeypatch):
    _register(monkeypatch, "small", "tests.test_restore:wrong_size")
    log = restore_method("small", MethodConfig(type="small"), LQ, tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all()
    assert "expected (512, 512, 3)" in log["error"].iloc[0]


def test_submission_with_a_missing_and_a_corrupt_image(tmp_path):
    team = tmp_path / "team"
    shutil.copytree(SAMPLE / "submissions" / "team15_NAFNet", team)
    (team / "LFW-Test" / "Alex_Penelas_0001_00.png").unlink()
    (team / "CelebA" / "163639.png").write_bytes(b"\x89PNG broken")
    shutil.copy(team / "CelebA" / "162798.png", team / "CelebA" / "162798_copy.png")
    config = MethodConfig(type="submission", options={"path": str(team)})
    log = restore_method("team", config, LQ, tmp_path / "out", ROOT).set_index("image")
    assert log.loc["Alex_Penelas_0001_00", "error"] == "missing from the submission"
    assert log.loc["163639", "status"] == "failed"
    assert log.loc["163639", "error"].startswith("CelebA/163639.png: corrupt, truncated")
    assert log.loc["162798_copy", "status"] == "extra"
    assert (log["status"] == "ok").sum() == 8


def test_restore_shard_keeps_its_call_shape(tmp_path):
    refs = [ref for ref in list_images(LQ) if ref.subset == "CelebA"]
    rows = restore_shard("lq", MethodConfig(type="lq"), "CelebA", refs, tmp_path, ROOT, "cpu", 8)
    assert [(r["image"], r["status"]) for r in rows] == [("162798", "ok"), ("163639", "ok")]


def test_unknown_method_type_lists_known_ones():
    with pytest.raises(KeyError, match="known: .*lq"):
        registry.get("nope")
