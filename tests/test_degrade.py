"""Degradation synthesis: byte-identical LQ faces, sampled parameters inside each preset's ranges,
overrides from params.yaml, one parameter row per image."""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from faceboard.cli import main
from faceboard.config import load_params
from faceboard.degrade.pipelines import apply, sample
from faceboard.degrade.presets import (
    KERNEL_TYPES,
    PRESETS,
    Kernel,
    OneOrder,
    SecondOrder,
    Stage,
    resolve,
)
from faceboard.degrade.run import Setting, degrade_images, image_rng
from faceboard.imageio import read_rgb
from faceboard.layout import list_images
from tasks.degrade import LQ, PARAMETERS, degrade_folder, setting_for
from tests.conftest import ROOT

# Four faces in two subsets (the sample's LQ images stand in for HQ faces: only the bytes matter here).
PICKED = ("CelebA", "LFW-Test")


@pytest.fixture(scope="module")
def hq(sample, tmp_path_factory) -> Path:
    folder = tmp_path_factory.mktemp("hq")
    for subset in PICKED:
        shutil.copytree(sample / "lq" / subset, folder / subset)
    return folder


def _bytes(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*.png"))}


@pytest.mark.parametrize("preset", list(PRESETS))
def test_same_bytes_on_every_run_and_in_any_order(hq, tmp_path, preset):
    setting = Setting.of(preset, None, seed=7)
    refs = list_images(hq)
    first = degrade_images(refs, tmp_path / "a", setting)
    again = degrade_images(refs[::-1], tmp_path / "b", setting)
    assert len(_bytes(tmp_path / "a")) == len(refs) == 4
    assert _bytes(tmp_path / "a") == _bytes(tmp_path / "b")
    assert pd.DataFrame(first).equals(pd.DataFrame(again[::-1]))
    images = [read_rgb(p) for p in sorted((tmp_path / "a").rglob("*.png"))]
    assert all(im.shape == (512, 512, 3) for im in images)
    assert len({im.tobytes() for im in images}) == 4  # each image its own draw


@pytest.mark.parametrize(("preset", "overrides"), [
    ("gfpgan", {"color_jitter_prob": 1, "color_jitter_pt_prob": 1, "gray_prob": 0}),  # torch colour ops on every face
    ("realesrgan", None),
])
def test_one_and_two_worker_processes_give_the_same_bytes(hq, tmp_path, preset, overrides):
    setting = Setting.of(preset, overrides, seed=3)
    refs = list_images(hq)
    single = degrade_images(refs, tmp_path / "one", setting, workers=1)
    double = degrade_images(refs, tmp_path / "two", setting, workers=2)
    assert _bytes(tmp_path / "one") == _bytes(tmp_path / "two")
    assert pd.DataFrame(single).equals(pd.DataFrame(double))


def test_cli_matches_the_library(hq, tmp_path, capsys):
    expected = degrade_folder(hq, tmp_path / "lib", Setting.of("codeformer", {"jpeg_quality": [40, 60]}, seed=0))
    assert main(["degrade", str(hq), "--out", str(tmp_path / "cli"), "--preset", "codeformer",
                 "--set", "jpeg_quality=[40, 60]", "--seed", "0"]) == 0
    assert "degraded 4 images with preset codeformer (seed 0)" in capsys.readouterr().out
    assert _bytes(tmp_path / "cli" / LQ) == _bytes(tmp_path / "lib" / LQ)
    table = pd.read_parquet(tmp_path / "cli" / PARAMETERS)
    pd.testing.assert_frame_equal(table, expected)
    assert table["jpeg_quality"].between(40, 59).all()


def test_cli_refuses_a_bad_override(hq, tmp_path, capsys):
    assert main(["degrade", str(hq), "--out", str(tmp_path), "--set", "kernel.sigma=[5, 1]"]) == 2
    assert "low end above high end" in capsys.readouterr().err
    assert not (tmp_path / LQ).exists()


def test_a_record_alone_reproduces_its_image(hq, tmp_path):
    setting = Setting.of("gfpgan", None, seed=11)
    ref = list_images(hq)[0]
    row = degrade_images([ref], tmp_path, setting)[0]
    record = {k: row[k] for k in sample(setting.ranges, image_rng(0, "any"))}
    assert np.array_equal(apply(read_rgb(ref.path), record, setting.ranges), read_rgb(tmp_path / ref.subset / f"{ref.name}.png"))


def test_seed_and_name_both_change_the_draws():
    draws = {(seed, key): image_rng(seed, key).integers(2**63) for seed in (0, 1) for key in ("a/x", "a/y", "b/x")}
    assert len(set(draws.values())) == len(draws)
    assert image_rng(5, "CelebA/1").integers(2**63) == image_rng(5, "CelebA/1").integers(2**63)


def test_parameters_parquet_has_one_flat_row_per_image(sample, tmp_path):
    refs = list_images(sample / "lq")
    table = degrade_folder(sample / "lq", tmp_path, Setting.of("realesrgan", None, seed=0))
    assert len(table) == len(refs) == len(list((tmp_path / LQ).rglob("*.png")))
    assert not table.duplicated(["subset", "image"]).any()
    assert list(table[["subset", "image"]].itertuples(index=False, name=None)) == [(r.subset, r.name) for r in refs]
    stored = pd.read_parquet(tmp_path / PARAMETERS)
    pd.testing.assert_frame_equal(stored, table)
    cells = stored.drop(columns=["subset", "image", "preset", "lq_sha256"]).to_numpy().ravel()
    assert all(c is None or isinstance(c, (int, float, bool, str, np.generic)) for c in cells)
    assert {"s1_kernel_type", "s2_resize_scale", "final_order", "noise_seed"} <= set(stored.columns)


def test_overrides_in_params_apply(tmp_path):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["degradation"] = {"preset": "codeformer",
                          "overrides": {"codeformer": {"jpeg_quality": [55, 55], "kernel": {"sigma": [2.5, 2.5]}}}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    setting = setting_for(load_params(tmp_path / "params.yaml"))
    assert setting.preset == "codeformer"
    assert setting.ranges.kernel.sizes == (41,)  # untouched keys keep the preset's values
    assert setting.ranges.downsample == (4.0, 30.0)
    for key in ("a", "b", "c"):
        record = sample(setting.ranges, image_rng(0, key))
        assert record["jpeg_quality"] == 55 and record["kernel_sigma_x"] == 2.5


@pytest.mark.parametrize("overrides", [{"bogus": 1}, {"jpeg_quality": [90, 60]}, {"jpeg_quality": [50.5, 60]},
                                       {"kernel": {"sizes": [4]}}, {"kernel": {"types": {"box": 1}}}])
def test_bad_overrides_are_refused(tmp_path, overrides):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["degradation"] = {"preset": "gfpgan", "overrides": {"gfpgan": overrides}}
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ValidationError):
        load_params(tmp_path / "params.yaml")


def test_unknown_preset_is_refused():
    with pytest.raises(KeyError, match="known: gfpgan, codeformer, realesrgan"):
        resolve("bsrgan")


# ---- every sampled parameter inside its preset's ranges ----

def _inside(value, span) -> bool:
    return span[0] <= value <= span[1]


def _check_kernel(r: dict, prefix: str, k: Kernel) -> None:
    kind, size = r[prefix + "type"], r[prefix + "size"]
    assert size in k.sizes
    if kind == "sinc":
        assert k.sinc_prob > 0
        assert _inside(r[prefix + "cutoff"], k.sinc_cutoff if size < 13 else k.sinc_cutoff_large)
        assert r[prefix + "sigma_x"] is None and r[prefix + "beta"] is None
        return
    assert kind in KERNEL_TYPES and k.types.get(kind, 0) > 0
    assert r[prefix + "cutoff"] is None
    assert _inside(r[prefix + "sigma_x"], k.sigma) and _inside(r[prefix + "sigma_y"], k.sigma)
    if kind.endswith("iso") and not kind.endswith("aniso"):
        assert r[prefix + "sigma_y"] == r[prefix + "sigma_x"] and r[prefix + "rotation"] == 0
    else:
        assert _inside(r[prefix + "rotation"], k.rotation)
    beta = {"generalized": k.beta_generalized, "plateau": k.beta_plateau}.get(kind.split("_")[0])
    assert (r[prefix + "beta"] is None) == (beta is None)
    if beta is not None:
        assert _inside(r[prefix + "beta"], beta)


def _check_one_order(r: dict, p: OneOrder) -> None:
    _check_kernel(r, "kernel_", p.kernel)
    assert _inside(r["downsample"], p.downsample) and _inside(r["noise_sigma"], p.noise_sigma)
    assert isinstance(r["jpeg_quality"], int) and _inside(r["jpeg_quality"], p.jpeg_quality)
    shifts = [r[f"color_shift_{c}"] for c in "rgb"]
    assert all(s is not None and abs(s) <= p.color_jitter_shift for s in shifts) if r["color_jitter"] else shifts == [None] * 3
    assert not r["color_jitter"] or p.color_jitter_prob > 0
    assert not r["gray"] or p.gray_prob > 0
    assert not r["color_adjust"] or p.color_jitter_pt_prob > 0
    for name in ("brightness", "contrast", "saturation", "hue"):
        assert _inside(r[name], getattr(p, name)) if r["color_adjust"] else r[name] is None
    if r["color_adjust"]:
        assert sorted(r["color_adjust_order"].split(",")) == ["brightness", "contrast", "hue", "saturation"]


def _check_stage(r: dict, prefix: str, s: Stage, blurred: bool) -> None:
    if blurred:
        _check_kernel(r, prefix + "kernel_", s.kernel)
    else:
        assert r[prefix + "kernel_type"] is None
    direction, scale = r[prefix + "resize"], r[prefix + "resize_scale"]
    assert s.resize_prob[direction] > 0
    assert {"up": _inside(scale, (1, s.resize[1])), "down": _inside(scale, (s.resize[0], 1)), "keep": scale == 1}[direction]
    assert r[prefix + "resize_mode"] in s.resize_modes
    if r[prefix + "noise"] == "gaussian":
        assert s.gaussian_noise_prob > 0 and _inside(r[prefix + "noise_sigma"], s.noise_sigma)
        assert r[prefix + "poisson_scale"] is None
    else:
        assert s.gaussian_noise_prob < 1 and _inside(r[prefix + "poisson_scale"], s.poisson_scale)
        assert r[prefix + "noise_sigma"] is None
    assert not r[prefix + "noise_gray"] or s.gray_noise_prob > 0
    assert _inside(r[prefix + "jpeg_quality"], s.jpeg_quality)


def _check_second_order(r: dict, p: SecondOrder) -> None:
    assert r["usm_sharpen"] == p.usm_sharpen and r["s1_blur"] is True
    _check_stage(r, "s1_", p.stage1, True)
    assert not r["s2_blur"] or p.blur2_prob > 0
    _check_stage(r, "s2_", p.stage2, r["s2_blur"])
    assert r["final_order"] in ("resize_first", "jpeg_first") and r["final_resize_mode"] in p.final_resize_modes
    if r["final_sinc"]:
        assert r["final_sinc_size"] in p.final_sinc_sizes and _inside(r["final_sinc_cutoff"], p.final_sinc_cutoff)
    else:
        assert r["final_sinc_size"] is None and r["final_sinc_cutoff"] is None


def _check(record: dict, ranges) -> None:
    assert 0 <= record["noise_seed"] < 2**63
    (_check_one_order if isinstance(ranges, OneOrder) else _check_second_order)(record, ranges)


@settings(max_examples=400, deadline=None)
@given(preset=st.sampled_from(list(PRESETS)), seed=st.integers(0, 2**32 - 1), name=st.text(min_size=1, max_size=24))
def test_sampled_parameters_stay_inside_the_preset_ranges(preset, seed, name):
    ranges = resolve(preset)
    _check(sample(ranges, image_rng(seed, name)), ranges)


_span = st.tuples(st.floats(0.05, 40, allow_nan=False), st.floats(0.05, 40, allow_nan=False)).map(sorted)
_quality = st.tuples(st.integers(0, 100), st.integers(0, 100)).map(sorted)
_prob = st.floats(0, 1, allow_nan=False)


@settings(max_examples=300, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sigma=_span, downsample=_span, noise=_span, quality=_quality,
       jitter=_prob, gray=_prob, sizes=st.lists(st.sampled_from([3, 5, 7, 21, 41]), min_size=1, max_size=3))
def test_sampled_parameters_stay_inside_overridden_ranges(seed, sigma, downsample, noise, quality, jitter, gray, sizes):
    ranges = resolve("gfpgan", {"kernel": {"sigma": sigma, "sizes": sizes}, "downsample": downsample,
                                "noise_sigma": noise, "jpeg_quality": quality, "color_jitter_prob": jitter,
                                "gray_prob": gray})
    _check(sample(ranges, image_rng(seed, "face")), ranges)


@settings(max_examples=200, deadline=None)
@given(seed=st.integers(0, 2**32 - 1), sinc=_prob, blur2=_prob, gaussian=_prob,
       resize=st.tuples(st.floats(0.1, 1), st.floats(1, 3)),
       types=st.dictionaries(st.sampled_from(KERNEL_TYPES), st.floats(0.01, 1), min_size=1))
def test_second_order_overrides_stay_inside_their_ranges(seed, sinc, blur2, gaussian, resize, types):
    stage = {"kernel": {"types": types, "sinc_prob": sinc}, "resize": resize, "gaussian_noise_prob": gaussian}
    ranges = resolve("realesrgan", {"stage1": stage, "stage2": stage, "blur2_prob": blur2})
    _check(sample(ranges, image_rng(seed, "face")), ranges)
