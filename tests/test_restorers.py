"""GFPGAN, CodeFormer and the LDM x4 restorer: their real architectures from random-weight checkpoints
written where the real files go (tests/random_weights.py). They check loading, options, batching,
determinism and the restore stage end to end, never the quality of an image.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest
import torch
from huggingface_hub import constants as hf_constants

from faceboard.config import MethodConfig
from faceboard.imageio import read_rgb
from faceboard.layout import list_images
from faceboard.methods import execution, registry
from faceboard.weights.registry import WEIGHTS, get
from tasks.restore import restore_method
from tests.conftest import ROOT, SAMPLE
from tests.random_weights import cache_env, populate

LQ = SAMPLE / "lq"
FACE_WEIGHTS = ["gfpgan_v1_4", "codeformer", "facexlib_detection_resnet50", "facexlib_parsing_parsenet"]
LDM_WEIGHTS = [name for name in WEIGHTS if name.startswith("ldm_sr_x4_")]
FACE_METHODS = ["gfpgan", "codeformer"]


@pytest.fixture(scope="module")
def face_weights(tmp_path_factory) -> Path:
    """A cache with random-weight GFPGAN, CodeFormer, RetinaFace and ParseNet checkpoints."""
    root = tmp_path_factory.mktemp("face-weights")
    populate(root, FACE_WEIGHTS)
    return root


@pytest.fixture(scope="module")
def ldm_weights(tmp_path_factory) -> Path:
    """A cache with a random-weight snapshot of the LDM x4 pipeline."""
    root = tmp_path_factory.mktemp("ldm-weights")
    populate(root, LDM_WEIGHTS)
    return root


def use_cache(monkeypatch, root: Path) -> None:
    """Point faceboard, torch hub and the (already imported) Hugging Face client at `root`."""
    for key, value in cache_env(root).items():
        monkeypatch.setenv(key, value)
    monkeypatch.setattr(hf_constants, "HF_HUB_CACHE", str(root / "huggingface" / "hub"))


@pytest.fixture
def faces(face_weights, monkeypatch) -> Path:
    use_cache(monkeypatch, face_weights)
    yield face_weights
    execution.release()  # a later test may point the same method at other files


@pytest.fixture
def ldm(ldm_weights, monkeypatch) -> Path:
    use_cache(monkeypatch, ldm_weights)
    yield ldm_weights
    execution.release()


@pytest.fixture
def empty_cache(tmp_path, monkeypatch) -> Path:
    use_cache(monkeypatch, tmp_path / "cache")
    return tmp_path / "cache"


def samples(n: int | None = None) -> list[np.ndarray]:
    return [read_rgb(ref.path) for ref in list_images(LQ)][:n]


def lq_subset(tmp_path: Path, n: int) -> Path:
    """An LQ folder with the first `n` sample images, in their subset folders."""
    for ref in list_images(LQ)[:n]:
        (tmp_path / "lq" / ref.subset).mkdir(parents=True, exist_ok=True)
        shutil.copy(ref.path, tmp_path / "lq" / ref.subset / ref.path.name)
    return tmp_path / "lq"


def assert_restored(log, out: Path, lq: Path) -> None:
    """Every image restored: a 512x512 RGB PNG under the input's name, not a copy of the input."""
    assert (log["status"] == "ok").all(), log[log["status"] != "ok"]["error"].tolist()
    for ref in list_images(lq):
        restored = read_rgb(out / ref.subset / f"{ref.name}.png")
        assert restored.shape == (512, 512, 3) and restored.dtype == np.uint8
        assert np.abs(restored.astype(int) - read_rgb(ref.path)).mean() > 1.0


@pytest.mark.parametrize(("method", "options", "problem"), [
    ("gfpgan", {"upscale": 2}, "unknown options"),
    ("gfpgan", {"weight": 1.5}, "must lie in"),
    ("gfpgan", {"aligned": "no"}, "must be a bool"),
    ("gfpgan", {"fp16": True}, "CUDA only"),
    ("codeformer", {"w": -0.1}, "must lie in"),
    ("codeformer", {"w": "0.5"}, "must be a float"),
    ("ldm-sr-x4", {"steps": 0}, "at least 1"),
    ("ldm-sr-x4", {"seed": 1.5}, "must be a int"),
    ("ldm-sr-x4", {"fp16": True}, "CUDA only"),
    ("ldm-sr-x4", {"guidance": 7}, "unknown options"),
])
def test_options_are_checked_before_anything_loads(empty_cache, method, options, problem):
    with pytest.raises(ValueError, match=problem):  # a FileNotFoundError would mean it loaded first
        registry.build(method, options, "cpu")


@pytest.mark.parametrize(("method", "options", "weight"), [
    ("gfpgan", {}, "gfpgan_v1_4"),
    ("codeformer", {}, "codeformer"),
    ("ldm-sr-x4", {}, "ldm_sr_x4_unet"),
])
def test_missing_weights_name_the_file_and_its_url(empty_cache, method, options, weight):
    missing = get(weight)
    with pytest.raises(FileNotFoundError) as err:
        registry.build(method, options, "cpu")
    assert missing.file_name in str(err.value) and missing.urls[0] in str(err.value)


def test_whole_image_path_needs_the_detector_and_says_where_it_is(empty_cache):
    populate(empty_cache, ["gfpgan_v1_4"])
    detector = get("facexlib_detection_resnet50")
    with pytest.raises(FileNotFoundError, match=detector.urls[0]):
        registry.build("gfpgan", {"aligned": False}, "cpu")


def test_restore_stage_reports_missing_weights_per_image(empty_cache, tmp_path):
    log = restore_method("cf", MethodConfig(type="codeformer"), lq_subset(tmp_path, 2), tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all()
    assert log["error"].str.contains("codeformer.pth").all() and log["error"].str.contains(get("codeformer").urls[0]).all()


def test_a_checkpoint_of_another_network_fails_the_key_check(faces, empty_cache):
    target = get("gfpgan_v1_4").path
    target.parent.mkdir(parents=True)
    shutil.copy(faces / "codeformer" / "codeformer.pth", target)  # has `params_ema`, but CodeFormer's
    with pytest.raises(ValueError, match="does not fit GFPGANv1Clean"):
        registry.build("gfpgan", {}, "cpu")


@pytest.mark.parametrize(("weight", "method", "options", "key"), [
    ("codeformer", "codeformer", {}, "fuse_convs_dict.64.scale.2.weight"),
    ("facexlib_parsing_parsenet", "gfpgan", {"aligned": False}, "encoder.0.conv2d.weight"),
])
def test_a_checkpoint_missing_one_key_fails_naming_it(faces, empty_cache, weight, method, options, key):
    for name in FACE_WEIGHTS:  # all files as they should be, except one
        source = faces / get(name).path.relative_to(empty_cache)
        get(name).path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(source, get(name).path)
    checkpoint = torch.load(get(weight).path, weights_only=True)
    state = checkpoint.get("params_ema", checkpoint)
    assert key in state
    del state[key]
    torch.save(checkpoint, get(weight).path)
    with pytest.raises(ValueError, match=f"Missing key.*{key}"):
        registry.build(method, options, "cpu")


def test_diffusion_weights_missing_keys_fail_naming_them(ldm, empty_cache):
    """diffusers itself only warns and initialises missing weights at random: faceboard refuses them."""
    source = ldm / "huggingface"
    shutil.copytree(source, empty_cache / "huggingface", symlinks=True)
    unet = get("ldm_sr_x4_unet").path
    state = torch.load(unet, weights_only=True)
    del state["conv_out.weight"]
    unet.unlink()
    torch.save(state, unet)
    with pytest.raises(ValueError, match="missing_keys.*conv_out.weight"):
        registry.build("ldm-sr-x4", {"steps": 1}, "cpu")


@pytest.mark.parametrize("method", FACE_METHODS)
def test_face_restorer_restores_a_sample_image_through_the_restore_stage(faces, tmp_path, method):
    lq = lq_subset(tmp_path, 1)
    log = restore_method(method, MethodConfig(type=method), lq, tmp_path / "out", ROOT, device="cpu")
    assert_restored(log, tmp_path / "out", lq)


def small(images: list[np.ndarray], size: int = 32) -> list[np.ndarray]:
    """The architecture is size-agnostic: 32 px (8x8 latents) keeps these tests fast."""
    return [cv2.resize(im, (size, size), interpolation=cv2.INTER_AREA) for im in images]


@pytest.fixture(scope="module")
def ldm_seed0(ldm_weights):
    """The LDM restorer with seed 0, loaded once for the tests below."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        use_cache(monkeypatch, ldm_weights)
        return registry.build("ldm-sr-x4", {"steps": 2, "seed": 0}, "cpu")


def test_diffusion_is_deterministic_per_image_whatever_the_batch(ldm_seed0):
    images = small(samples(2))
    batched = ldm_seed0(images)
    assert [im.shape for im in batched] == [(32, 32, 3)] * 2 and batched[0].dtype == np.uint8
    alone = ldm_seed0(images[1:])[0]
    assert np.abs(alone.astype(int) - batched[1]).max() <= 1  # same generator; batched maths may round apart
    assert all(np.array_equal(a, b) for a, b in zip(batched, ldm_seed0(images)))


def test_diffusion_seed_and_input_change_the_output(ldm, ldm_seed0):
    images = small(samples(2))
    first = ldm_seed0(images)
    other_seed = registry.build("ldm-sr-x4", {"steps": 2, "seed": 1}, "cpu")(images[:1])
    assert np.abs(first[0].astype(int) - other_seed[0]).mean() > 1.0
    assert np.abs(first[0].astype(int) - first[1]).mean() > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("method", FACE_METHODS)
def test_face_restorer_on_the_whole_sample_batched_as_one_by_one(faces, tmp_path, method):
    out = tmp_path / "out"
    log = restore_method(method, MethodConfig(type=method), LQ, out, ROOT, device="cpu", batch_size=4)
    assert len(log) == 10
    assert_restored(log, out, LQ)
    ref = list_images(LQ)[5]  # second in its batch of four, restored alone
    alone = registry.build(method, {}, "cpu")([read_rgb(ref.path)])[0]
    assert np.abs(alone.astype(int) - read_rgb(out / ref.subset / f"{ref.name}.png")).max() <= 1


@pytest.mark.slow
def test_codeformer_fidelity_weight_feeds_encoder_features_in(faces):
    images = samples(1)
    assert np.abs(registry.build("codeformer", {"w": 0.0}, "cpu")(images)[0].astype(int)
                  - registry.build("codeformer", {"w": 1.0}, "cpu")(images)[0]).mean() > 1.0


@pytest.mark.slow
@pytest.mark.parametrize("method", FACE_METHODS)
def test_whole_image_path_detects_restores_and_pastes_back(faces, tmp_path, method):
    lq = lq_subset(tmp_path, 1)
    config = MethodConfig(type=method, options={"aligned": False})
    assert_restored(restore_method(method, config, lq, tmp_path / "out", ROOT, device="cpu"), tmp_path / "out", lq)


@pytest.mark.slow
def test_diffusion_restores_the_whole_sample(ldm, tmp_path):
    out = tmp_path / "out"
    config = MethodConfig(type="ldm-sr-x4", options={"steps": 1})
    log = restore_method("ldm", config, LQ, out, ROOT, device="cpu", batch_size=5)
    assert len(log) == 10
    assert_restored(log, out, LQ)


@pytest.mark.gpu
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize(("method", "options", "cache"), [
    ("gfpgan", {}, "faces"), ("codeformer", {}, "faces"), ("ldm-sr-x4", {"steps": 2}, "ldm"),
])
def test_fp16_on_cuda_matches_fp32(request, method, options, cache):
    request.getfixturevalue(cache)
    images = samples(2)
    half = registry.build(method, {**options, "fp16": True}, "cuda")(images)
    full = registry.build(method, options, "cuda")(images)
    for h, f in zip(half, full):
        assert h.shape == (512, 512, 3) and h.dtype == np.uint8
        assert np.abs(h.astype(int) - f).mean() < 8.0  # half precision drifts, never diverges
