"""NIQE, re-implemented from pyiqa 0.1.16's `niqe` (MATLAB pristine model) and tested equal to it.

Why: speed. pyiqa takes ~125 ms per 512x512 image on one CPU thread (a float64 torch convolution,
thousands of tiny per-block ops, an lgamma table rebuilt for every fit); this takes about a tenth.
The features are computed in float64 with OpenCV filters and block-vectorised NumPy; pyiqa's own
torch code is kept where its rounding decides the result (the float32 Y channel, the float32 resize
weights, the lookup table) and for the final Gaussian fit, so scores match pyiqa's float64 ones to
~1e-11 (tests/test_niqe.py).

Only pyiqa's default options run here; any other value delegates every call to `PyiqaMetric`.
It computes on the CPU whatever `device` is; an instance is not thread-safe (it reuses scratch arrays).
"""

from __future__ import annotations

import functools
import importlib
import importlib.metadata
import importlib.util
import math
import sys
from pathlib import Path
from types import ModuleType
from typing import NamedTuple

import cv2
import numpy as np
import scipy.io
import torch

from faceboard.metrics.table import MetricSpec
from faceboard.metrics.weights import locate

# pyiqa NIQE's constructor defaults; `channels` and `test_y_channel` do not change its scores.
DEFAULT_OPTIONS = {"channels": 1, "test_y_channel": True, "color_space": "yiq", "crop_border": 0,
                   "version": "original", "pretrained_model_path": None}
BLOCK = 96  # block side at full scale; 48 at half scale
SHIFTS = ((0, 1), (1, 0), (1, 1), (1, -1))  # (row, column) rolls of a block whose products with it are fitted


class NIQE:
    """Scores batches of RGB images (N,3,H,W float in [0,1], H and W >= 96): lower is better."""

    def __init__(self, spec: MetricSpec, options: dict, device: torch.device) -> None:
        self.spec = spec
        self.options = {**spec.options, **options}
        self.pyiqa_version = importlib.metadata.version("pyiqa")
        self._delegate = None
        if not _is_default(self.options):
            from faceboard.metrics.pyiqa_backend import PyiqaMetric

            self._delegate = PyiqaMetric(spec, options, device)
            return
        self.weights = locate(spec, self.options)
        params = scipy.io.loadmat(self.weights.paths["niqe_params"])
        self._pristine_mean = torch.from_numpy(np.ravel(params["mu_prisparam"])).to(torch.float64)
        self._pristine_cov = torch.from_numpy(params["cov_prisparam"]).to(torch.float64)
        self._scratch = Scratch()

    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        if self._delegate is not None:
            return self._delegate(batch)
        luma = _luma(batch)
        features = np.stack([_image_features(y, self._scratch) for y in luma])
        return _mvg_distance(torch.from_numpy(features), self._pristine_mean, self._pristine_cov)

    def provenance(self) -> dict:
        if self._delegate is not None:
            return self._delegate.provenance()
        return {
            "metric": self.spec.name,
            "backend": "faceboard",
            "reference": f"pyiqa {self.pyiqa_version} niqe",
            "pyiqa": self.pyiqa_version,
            "options": self.options,
            "lower_better": self.spec.lower_better,
            **self.weights.provenance(),
        }


def _is_default(options: dict) -> bool:
    return all(key in DEFAULT_OPTIONS and value == DEFAULT_OPTIONS[key] for key, value in options.items())


class Scratch:
    """Named arrays reused from image to image: a fresh multi-megabyte array costs more in page faults than
    the arithmetic done on it. Keeps the arrays of the latest image size only."""

    def __init__(self) -> None:
        self._arrays: dict[tuple[str, tuple[int, ...], type], np.ndarray] = {}
        self._image_shape: tuple[int, int] | None = None

    def start(self, image_shape: tuple[int, int]) -> None:
        if image_shape != self._image_shape:
            self._arrays.clear()
            self._image_shape = image_shape

    def __call__(self, name: str, shape: tuple[int, ...], dtype: type = np.float64) -> np.ndarray:
        key = (name, shape, dtype)
        if key not in self._arrays:
            self._arrays[key] = np.empty(shape, dtype)
        return self._arrays[key]


@torch.inference_mode()
def _luma(batch: torch.Tensor) -> np.ndarray:
    """(N,H,W) rounded Y (YIQ, 0..255) cropped to whole blocks, by pyiqa's own float32 conversion."""
    to_y_channel = _pyiqa_helpers("utils/color_util.py").to_y_channel
    if batch.ndim != 4 or batch.shape[1] != 3:
        raise ValueError(f"NIQE needs an (N,3,H,W) batch, got shape {tuple(batch.shape)}")
    height, width = (side // BLOCK * BLOCK for side in batch.shape[-2:])
    if not height or not width:
        raise ValueError(f"NIQE needs images of at least {BLOCK}x{BLOCK} pixels, got {tuple(batch.shape[-2:])}")
    batch = batch.detach().cpu()
    values = batch.numpy()
    low, high = values.min(), values.max()
    if not (low > -1e-6 and high < 1 + 1e-6):  # pyiqa's input check
        raise ValueError(f"NIQE input must be in [0, 1], got [{low:.4f}, {high:.4f}]")
    luma = to_y_channel(batch, 255, "yiq")  # already rounded: pyiqa's second rounding changes nothing
    return luma[:, 0, :height, :width].numpy()


def _image_features(luma: np.ndarray, scratch: Scratch) -> np.ndarray:
    """(blocks, 36): per block, the 18 features of the full and of the half-size image (pyiqa's block order)."""
    scratch.start(luma.shape)
    image = scratch("luma", luma.shape)
    image[...] = luma  # contiguous float64, for OpenCV
    full = _block_features(_mscn(image, scratch), BLOCK, scratch)
    half = _block_features(_mscn(_half_size(image, scratch), scratch), BLOCK // 2, scratch)
    return np.concatenate([full, half], axis=1)


@functools.cache
def _gaussian_window() -> np.ndarray:
    """pyiqa's 7x7, sigma 7/6 window: rounded to float32 as pyiqa makes it, so not exactly separable."""
    fspecial = _pyiqa_helpers("matlab_utils/functions.py").fspecial
    return fspecial(7, 7.0 / 6, 1)[0, 0].to(torch.float64).numpy()


def _mscn(image: np.ndarray, scratch: Scratch) -> np.ndarray:
    """Mean-subtracted, contrast-normalised coefficients with replicated borders (pyiqa's normalize_img_with_gauss)."""
    window, shape = _gaussian_window(), image.shape
    mean = cv2.filter2D(image, cv2.CV_64F, window, dst=scratch("mean", shape), borderType=cv2.BORDER_REPLICATE)
    square = np.multiply(image, image, out=scratch("square", shape))
    spread = cv2.filter2D(square, cv2.CV_64F, window, dst=scratch("spread", shape), borderType=cv2.BORDER_REPLICATE)
    spread -= np.multiply(mean, mean, out=square)
    np.abs(spread, out=spread)
    spread += np.finfo(np.float64).eps
    cv2.sqrt(spread, dst=spread)  # IEEE square root, as np.sqrt, but faster
    spread += 1.0
    centred = np.subtract(image, mean, out=mean)
    return np.divide(centred, spread, out=centred)


def _block_features(mscn: np.ndarray, size: int, scratch: Scratch) -> np.ndarray:
    """(blocks, 18) in column-major block order: the AGGD fit of each block, then of its four neighbour products."""
    rows, cols = mscn.shape[0] // size, mscn.shape[1] // size
    blocks = scratch("blocks", (cols, rows, size, size))
    blocks[...] = mscn.reshape(rows, size, cols, size).transpose(2, 0, 1, 3)
    blocks = blocks.reshape(-1, size, size)
    table = _aggd_table()
    index, left, right = _fit_aggd(blocks, scratch)
    columns = [table.shape[index], (left + right) / 2]
    products = scratch("products", blocks.shape)
    for shift in SHIFTS:
        np.multiply(blocks, _roll(blocks, shift, scratch("rolled", blocks.shape)), out=products)
        index, left, right = _fit_aggd(products, scratch)
        columns += [table.shape[index], (right - left) * table.mean[index], left, right]
    return np.stack(columns, axis=1)


def _roll(blocks: np.ndarray, shift: tuple[int, int], out: np.ndarray) -> np.ndarray:
    """np.roll(blocks, shift, axis=(1, 2)) written into `out`: each block rolls on its own, as torch.roll in pyiqa."""
    for rows_to, rows_from in _wrap(shift[0], blocks.shape[1]):
        for cols_to, cols_from in _wrap(shift[1], blocks.shape[2]):
            out[:, rows_to, cols_to] = blocks[:, rows_from, cols_from]
    return out


def _wrap(shift: int, length: int) -> list[tuple[slice, slice]]:
    """(destination, source) slices of a circular shift by `shift` along an axis of `length`."""
    shift %= length
    if not shift:
        return [(slice(None), slice(None))]
    return [(slice(shift, None), slice(None, length - shift)), (slice(None, shift), slice(length - shift, None))]


def _fit_aggd(blocks: np.ndarray, scratch: Scratch) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Per block: the AGGD shape's grid index and the left and right scales (pyiqa's estimate_aggd_param)."""
    samples = blocks.reshape(len(blocks), -1)
    negative = cv2.threshold(samples, 0, 0, cv2.THRESH_TOZERO_INV, dst=scratch("negative", samples.shape))[1]
    positive = cv2.threshold(samples, 0, 0, cv2.THRESH_TOZERO, dst=scratch("positive", samples.shape))[1]
    mask = scratch("mask", samples.shape, np.bool_)
    left_n = _row_sums(np.less(samples, 0, out=mask).view(np.uint8))
    right_n = _row_sums(np.greater(samples, 0, out=mask).view(np.uint8))
    left_sq = np.vecdot(negative, negative)
    right_sq = np.vecdot(positive, positive)
    mean_abs = (_row_sums(positive) - _row_sums(negative)) / samples.shape[1]
    with np.errstate(divide="ignore", invalid="ignore"):  # empty sides and flat blocks give nan, as in pyiqa
        left_std = np.sqrt(left_sq / left_n)
        right_std = np.sqrt(right_sq / right_n)
        g = left_std / right_std
        rhat = mean_abs * mean_abs / ((left_sq + right_sq) / samples.shape[1])
        bound = g * g + 1
        rhat_norm = rhat * (g * g * g + 1) * (g + 1) / (bound * bound)
    index = _nearest_ratio(rhat_norm)
    scale = _aggd_table().scale[index]
    return index, left_std * scale, right_std * scale


def _row_sums(values: np.ndarray) -> np.ndarray:
    """Sum of each row: float64 for float64 rows, int32 counts for uint8 rows."""
    depth = cv2.CV_32S if values.dtype == np.uint8 else cv2.CV_64F
    return cv2.reduce(values, 1, cv2.REDUCE_SUM, dtype=depth).ravel()


def _nearest_ratio(values: np.ndarray) -> np.ndarray:
    """argmin_k |ratio[k] - value| with torch's rules: the first of equal distances, 0 for nan or inf."""
    ratio = _aggd_table().ratio
    above = np.clip(np.searchsorted(ratio, values), 1, len(ratio) - 1)
    below = above - 1
    with np.errstate(invalid="ignore"):
        index = np.where(np.abs(ratio[below] - values) <= np.abs(ratio[above] - values), below, above)
    return np.where(np.isfinite(values), index, 0)


class AggdTable(NamedTuple):
    """pyiqa's AGGD shape grid and, per grid point, the values its fit derives from the shape."""

    shape: np.ndarray  # gamma = 0.2, 0.201, ..., 10 (float32 steps, as pyiqa builds it)
    ratio: np.ndarray  # Gamma(2/g)^2 / (Gamma(1/g) Gamma(3/g)), strictly increasing in g
    scale: np.ndarray  # sqrt(Gamma(1/g) / Gamma(3/g)): standard deviation -> AGGD scale
    mean: np.ndarray  # Gamma(2/g) / Gamma(1/g): the asymmetric mean's factor


@functools.cache
def _aggd_table() -> AggdTable:
    """Built once with the torch ops pyiqa uses per call, so every entry is bit-identical to pyiqa's."""
    shape = torch.arange(0.2, 10 + 0.001, 0.001).to(torch.float64)
    ratio = (2 * torch.lgamma(2.0 / shape) - (torch.lgamma(1.0 / shape) + torch.lgamma(3.0 / shape))).exp()
    if not bool((ratio.diff() > 0).all()):
        raise RuntimeError("the AGGD ratio table is not strictly increasing; the nearest-entry search needs it")
    scale = (torch.lgamma(1 / shape) - torch.lgamma(3 / shape)).exp().sqrt()
    mean = (torch.lgamma(2 / shape) - torch.lgamma(1 / shape)).exp()
    return AggdTable(*(t.numpy() for t in (shape, ratio, scale, mean)))


def _half_size(luma: np.ndarray, scratch: Scratch) -> np.ndarray:
    """pyiqa's `imresize(img / 255, scale=0.5) * 255`, which computes in float32."""
    pixels = scratch("pixels", luma.shape, np.float32)
    np.copyto(pixels, np.divide(luma, 255.0, out=scratch("scaled", luma.shape)), casting="same_kind")
    pixels = _halve_rows(_halve_rows(pixels, scratch, "rows").T, scratch, "cols").T
    half = scratch("half", pixels.shape)
    np.copyto(half, pixels)
    half *= 255.0  # in float64, after the cast, as pyiqa does
    return half


def _halve_rows(pixels: np.ndarray, scratch: Scratch, name: str) -> np.ndarray:
    """Halve axis 0 with MATLAB's symmetric padding, adding the weighted taps in order in float32 as torch's sum."""
    taps = _halving_taps(pixels.shape[0])
    length, before, after = pixels.shape[0], taps.pad_before, taps.pad_after
    padded = scratch(f"{name}_padded", (before + length + after, pixels.shape[1]), np.float32)
    padded[:before] = pixels[:before][::-1]
    padded[before:before + length] = pixels
    padded[before + length:] = pixels[length - after:][::-1]
    outputs = taps.weights.shape[1]
    out = scratch(f"{name}_out", (outputs, pixels.shape[1]), np.float32)
    term = scratch(f"{name}_term", out.shape, np.float32)
    for k, weight in enumerate(taps.weights):
        rows = padded[taps.first + k:taps.first + k + 2 * outputs:2]
        if k == 0:
            np.multiply(rows, weight[:, None], out=out)
        else:
            out += np.multiply(rows, weight[:, None], out=term)
    return out


class HalvingTaps(NamedTuple):
    """pyiqa's antialiased bicubic taps for halving one axis of a given length (MATLAB imresize)."""

    weights: np.ndarray  # (taps, outputs) float32
    pad_before: int
    pad_after: int
    first: int  # padded input row of output 0's first tap; output r starts at first + 2r


@functools.cache
def _halving_taps(length: int) -> HalvingTaps:
    """pyiqa's resize_1d weights for scale 0.5, computed with its own float32 helpers."""
    resize = _pyiqa_helpers("matlab_utils/resize.py")
    get_padding, get_weight = resize.get_padding, resize.get_weight
    outputs, taps = math.ceil(length * 0.5), math.ceil(4 / 0.5) + 2
    position = (torch.linspace(0, outputs - 1, steps=outputs, dtype=torch.float32) + 0.5) / 0.5 - 0.5
    base = position.floor() - taps // 2 + 1
    weights = get_weight(position - base, taps, kernel="cubic", antialiasing_factor=0.5)
    pad_before, pad_after, base = get_padding(base, taps, length)
    if not bool((base.diff() == 2).all()):
        raise RuntimeError(f"halving a length of {length}: the taps do not advance by 2")
    return HalvingTaps(weights.numpy(), int(pad_before), int(pad_after), int(base[0]))


@torch.inference_mode()
def _mvg_distance(features: torch.Tensor, pristine_mean: torch.Tensor, pristine_cov: torch.Tensor) -> np.ndarray:
    """pyiqa's final step: the distance between the blocks' Gaussian fit and the pristine one (nan rows dropped)."""
    functions = _pyiqa_helpers("matlab_utils/functions.py")
    nancov, nanmean = functions.nancov, functions.nanmean
    diff = (pristine_mean - nanmean(features, dim=1)).unsqueeze(1)
    inverse = torch.linalg.pinv((pristine_cov + nancov(features)) / 2)
    quality = torch.bmm(torch.bmm(diff, inverse), diff.transpose(1, 2))
    return torch.sqrt(quality).reshape(-1).numpy()


@functools.cache
def _pyiqa_helpers(path: str) -> ModuleType:
    """One of pyiqa's numeric helper modules (torch and NumPy only), by its path inside the pyiqa package.

    `import pyiqa` runs the package's __init__, which imports every architecture and torchvision: about
    190 MB and 2 s that NIQE does not use. So unless pyiqa is imported already, the file is loaded under a
    private package name; the functions are pyiqa's own either way.
    """
    if "pyiqa" in sys.modules:
        return importlib.import_module("pyiqa." + path.removesuffix(".py").replace("/", "."))
    root = Path(importlib.util.find_spec("pyiqa").origin).parent
    folder, _, file = path.rpartition("/")
    package = f"{__name__}._pyiqa_{folder.replace('/', '_')}"
    if package not in sys.modules:  # a bare package over pyiqa's folder: its __init__ is never run
        module = ModuleType(package)
        module.__path__ = [str(root / folder)]
        sys.modules[package] = module
    return importlib.import_module(f"{package}.{file.removesuffix('.py')}")
