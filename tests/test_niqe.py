"""faceboard's NIQE equals pyiqa's: on the sample, odd sizes and contents, the validation set (slow), its parts.

The reference is pyiqa's own float64 score, through `PyiqaMetric` (what "niqe" ran on before); the metric
table's "niqe" is faceboard's implementation.
"""

from __future__ import annotations

import cv2
import numpy as np
import pytest
import torch

from faceboard.imageio import read_rgb, to_batch
from faceboard.metrics import niqe
from faceboard.metrics.pyiqa_backend import PyiqaMetric
from faceboard.metrics.table import get, load
from tests.conftest import SAMPLE, SHARED_VAL

TOLERANCE = 1e-6
CPU = torch.device("cpu")
SAMPLE_IMAGES = [*sorted((SAMPLE / "lq").rglob("*.png")),
                 *sorted((SAMPLE / "submissions" / "team15_NAFNet").rglob("*.png"))]


@pytest.fixture(scope="module")
def reference():
    return PyiqaMetric(get("niqe"), {}, CPU)


@pytest.fixture(scope="module")
def fast():
    loaded = load("niqe", {}, "cpu")
    assert isinstance(loaded, niqe.NIQE)
    return loaded


@pytest.fixture(scope="module")
def sample_batch() -> torch.Tensor:
    return to_batch([read_rgb(path) for path in SAMPLE_IMAGES])


def pyiqa_scores(reference, batch: torch.Tensor) -> np.ndarray:
    with torch.inference_mode():
        return reference.model(batch).reshape(-1).numpy()


def assert_same_scores(ours: np.ndarray, theirs: np.ndarray, what: str) -> float:
    """Equal within TOLERANCE, nan where pyiqa has nan; returns the largest difference."""
    assert ours.dtype == np.float64 and ours.shape == theirs.shape, (ours.dtype, ours.shape, theirs.shape)
    diff = float(np.nanmax(np.abs(ours - theirs), initial=0.0))
    np.testing.assert_allclose(ours, theirs, rtol=0, atol=TOLERANCE, equal_nan=True,
                               err_msg=f"{what}: max abs diff {diff:.3g} vs pyiqa")
    return diff


def test_sample_batched_equals_pyiqa(fast, reference, sample_batch):
    ours = fast(sample_batch)
    assert len(ours) == len(SAMPLE_IMAGES) == 20
    assert_same_scores(ours, pyiqa_scores(reference, sample_batch), "sample batch")
    assert_same_scores(ours, reference(sample_batch), "sample batch, PyiqaMetric")


@pytest.mark.parametrize("index", range(len(SAMPLE_IMAGES)), ids=lambda i: str(SAMPLE_IMAGES[i].relative_to(SAMPLE)))
def test_sample_one_by_one_equals_pyiqa(fast, reference, sample_batch, index):
    image = sample_batch[index:index + 1]
    assert_same_scores(fast(image), pyiqa_scores(reference, image), str(SAMPLE_IMAGES[index]))


def _odd_image(kind: str) -> np.ndarray:
    rgb = read_rgb(SAMPLE_IMAGES[0])
    if kind == "crop 500x333":
        return rgb[5:338, 7:507]
    if kind == "crop 96x96":
        return rgb[200:296, 200:296]
    if kind == "noise":
        return np.random.default_rng(0).integers(0, 256, (256, 320, 3), dtype=np.uint8)
    if kind == "grayscale":
        return np.repeat(cv2.cvtColor(rgb, cv2.COLOR_RGB2GRAY)[..., None], 3, axis=2)
    if kind == "flat top half":  # blocks whose normalised values are the window's rounding residue
        return np.concatenate([np.full_like(rgb[:256], 200), rgb[256:]])
    if kind == "black third":  # blocks of zeros: their features are nan, dropped from the fit
        return np.concatenate([np.zeros_like(rgb[:, :192]), rgb[:, 192:]], axis=1)
    raise ValueError(kind)


@pytest.mark.parametrize("kind", ["crop 500x333", "crop 96x96", "noise", "grayscale", "flat top half", "black third"])
def test_odd_sizes_and_contents_equal_pyiqa(fast, reference, kind):
    batch = to_batch([_odd_image(kind)])
    assert_same_scores(fast(batch), pyiqa_scores(reference, batch), kind)


@pytest.mark.parametrize("level", [0, 128, 255])
def test_a_flat_image_fails_as_in_pyiqa(fast, reference, level):
    """Every block's features are nan, so both take the pseudo-inverse of a nan matrix and raise."""
    batch = torch.full((1, 3, 200, 200), level / 255)
    with pytest.raises(torch.linalg.LinAlgError):
        pyiqa_scores(reference, batch)
    with pytest.raises(torch.linalg.LinAlgError):
        fast(batch)


def test_bad_input_is_refused(fast):
    with pytest.raises(ValueError, match="at least 96x96"):
        fast(torch.rand(1, 3, 95, 200))
    with pytest.raises(ValueError, match=r"in \[0, 1\]"):
        fast(torch.rand(1, 3, 96, 96) + 1)


def test_other_options_delegate_to_pyiqa(fast, sample_batch):
    batch = sample_batch[:2]
    options = {"crop_border": 4}
    delegating = niqe.NIQE(get("niqe"), options, CPU)
    assert delegating.provenance()["backend"] == "pyiqa"
    scores = delegating(batch)
    np.testing.assert_array_equal(scores, load("niqe", options, "cpu")(batch))
    assert np.abs(scores - fast(batch)).max() > 1e-3  # the option matters: the fast path would not pass
    default_values = {"crop_border": 0, "color_space": "yiq", "version": "original", "test_y_channel": True}
    assert niqe.NIQE(get("niqe"), default_values, CPU).provenance()["backend"] == "faceboard"


def test_provenance_names_the_reference_and_the_pristine_model(fast, reference):
    ours, theirs = fast.provenance(), reference.provenance()
    assert ours["backend"] == "faceboard" and ours["metric"] == "niqe" and ours["lower_better"] is True
    assert ours["reference"] == f"pyiqa {theirs['pyiqa']} niqe" and ours["pyiqa"] == theirs["pyiqa"]
    assert ours["weights"] == theirs["weights"] and list(ours["weights"]) == ["niqe_modelparameters.mat"]
    assert ours["weights_verified"] == theirs["weights_verified"]


def test_aggd_fit_equals_pyiqa():
    from pyiqa.archs.func_util import estimate_aggd_param

    rng = np.random.default_rng(1)
    blocks = rng.standard_normal((6, 48, 48))
    blocks[1] = np.abs(blocks[1])  # no left side
    blocks[2] = 0.0  # nothing at all
    blocks[3] *= rng.random((48, 48)) < 0.05  # mostly zeros
    blocks[4] = blocks[0] * np.roll(blocks[0], (1, -1), axis=(0, 1))
    blocks[5] *= 1e-12
    index, left, right = niqe._fit_aggd(blocks, niqe.Scratch())
    alpha, beta_l, beta_r = estimate_aggd_param(torch.from_numpy(blocks[:, None]))
    np.testing.assert_array_equal(niqe._aggd_table().shape[index], alpha.numpy())
    np.testing.assert_allclose(left, beta_l.numpy(), rtol=1e-13, equal_nan=True)
    np.testing.assert_allclose(right, beta_r.numpy(), rtol=1e-13, equal_nan=True)
    assert np.isnan(left[1:3]).all() and np.isfinite(left[[0, 3, 4, 5]]).all()


def test_nearest_ratio_picks_torch_argmin():
    ratio = niqe._aggd_table().ratio
    rng = np.random.default_rng(2)
    midpoints = (ratio[:-1] + ratio[1:]) / 2
    values = np.concatenate([
        ratio[rng.integers(0, len(ratio), 300)],
        midpoints[rng.integers(0, len(midpoints), 600)],
        np.nextafter(midpoints[:300], 0), np.nextafter(midpoints[-300:], 1),
        rng.uniform(-0.2, 1.2, 600),
        [np.nan, np.inf, -np.inf, 0.0, ratio[0], ratio[-1], ratio[0] - 1, ratio[-1] + 1],
    ])
    table = torch.from_numpy(ratio)
    expected = np.concatenate([(table - torch.from_numpy(chunk)[:, None]).abs().argmin(-1).numpy()
                               for chunk in np.array_split(values, 8)])
    np.testing.assert_array_equal(niqe._nearest_ratio(values), expected)


@pytest.mark.parametrize("shape", [(96, 96), (192, 480), (480, 480)])
def test_half_size_is_pyiqas_imresize_bit_for_bit(shape):
    from pyiqa.matlab_utils import imresize

    luma = np.random.default_rng(3).integers(0, 256, shape).astype(np.float64)
    expected = imresize(torch.from_numpy(luma)[None, None] / 255.0, scale=0.5, antialiasing=True) * 255.0
    scratch = niqe.Scratch()
    scratch.start(shape)
    np.testing.assert_array_equal(niqe._half_size(luma, scratch), expected[0, 0].numpy())


@pytest.mark.slow
def test_validation_set_equals_pyiqa(fast, reference):
    """All 450 LQ inputs and 450 team15_NAFNet outputs of the NTIRE 2025 validation set."""
    folders = [SHARED_VAL / "lq", SHARED_VAL / "submissions" / "team15_NAFNet"]
    if not all(folder.is_dir() for folder in folders):
        pytest.skip(f"no validation set under {SHARED_VAL}")
    paths = [path for folder in folders for path in sorted(folder.rglob("*.png"))]
    assert len(paths) == 900
    largest = 0.0
    for start in range(0, len(paths), 10):
        chunk = paths[start:start + 10]
        batch = to_batch([read_rgb(path) for path in chunk])
        largest = max(largest, assert_same_scores(fast(batch), pyiqa_scores(reference, batch), str(chunk)))
    print(f"max abs diff over {len(paths)} validation images: {largest:.3g}")
