"""The two degradation pipelines, each as `sample` (every random choice, drawn up front into a flat
record) and `apply` (the image operations, driven by the record alone).

Noise draws come from a generator seeded by the record's `noise_seed`, so a record reproduces its LQ
image exactly. Integer JPEG qualities are `int(uniform(low, high))`, as CodeFormer's dataset does.

One order (GFPGAN, CodeFormer): blur, bilinear downsampling to `int(size // factor)`, Gaussian noise,
JPEG, bilinear resize back, then on the LQ only an RGB shift, gray, and brightness / contrast /
saturation / hue in random order. Second order (Real-ESRGAN): USM-sharpened input; blur, random
resize, Gaussian or Poisson noise, JPEG; optional blur, resize relative to 1/scale, noise; then resize
to 1/scale + sinc filter and JPEG in random order; finally a bilinear resize back to the input size
(the LQ stays 512x512, as the NTIRE inputs). Where upstream runs on the GPU (Real-ESRGAN's torch
resizing and differentiable JPEG), OpenCV's resizing and codec stand in; images are rounded to 8 bits
before each JPEG encoding.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from faceboard.degrade import ops
from faceboard.degrade.kernels import FIELDS as KERNEL_FIELDS
from faceboard.degrade.kernels import build_kernel, choose, sample_kernel, sinc_kernel
from faceboard.degrade.presets import OneOrder, Ranges, SecondOrder, Stage

COLOUR_ADJUSTMENTS = ("brightness", "contrast", "saturation", "hue")

Record = dict[str, Any]


def sample(ranges: Ranges, rng: np.random.Generator) -> Record:
    """Every random parameter of one image's degradation, as flat columns."""
    if isinstance(ranges, OneOrder):
        return _sample_one_order(ranges, rng)
    return _sample_second_order(ranges, rng)


def apply(hq: np.ndarray, record: Record, ranges: Ranges) -> np.ndarray:
    """Degrade an HxWx3 uint8 RGB image as `record` says; the LQ image has the input's size."""
    if isinstance(ranges, OneOrder):
        return _apply_one_order(hq, record)
    return _apply_second_order(hq, record, ranges)


def _sample_one_order(r: OneOrder, rng: np.random.Generator) -> Record:
    record = sample_kernel(r.kernel, rng, "kernel_")
    record["downsample"] = float(rng.uniform(*r.downsample))
    record["noise_sigma"] = float(rng.uniform(*r.noise_sigma))
    record["jpeg_quality"] = int(rng.uniform(*r.jpeg_quality))
    jitter = bool(rng.uniform() < r.color_jitter_prob)
    shift = rng.uniform(-r.color_jitter_shift, r.color_jitter_shift, 3) if jitter else [None] * 3
    record.update(color_jitter=jitter, **{f"color_shift_{c}": _opt(v) for c, v in zip("rgb", shift)})
    record["gray"] = bool(rng.uniform() < r.gray_prob)
    adjust = bool(rng.uniform() < r.color_jitter_pt_prob)
    record["color_adjust"] = adjust
    record["color_adjust_order"] = ",".join(rng.permutation(COLOUR_ADJUSTMENTS)) if adjust else None
    for name in COLOUR_ADJUSTMENTS:
        record[name] = float(rng.uniform(*getattr(r, name))) if adjust else None
    record["noise_seed"] = _seed(rng)
    return record


def _apply_one_order(hq: np.ndarray, p: Record) -> np.ndarray:
    height, width = hq.shape[:2]
    noise = np.random.Generator(np.random.PCG64(p["noise_seed"]))
    img = ops.blur(ops.to_float(hq), build_kernel(p, "kernel_"))
    img = ops.resize(img, int(width // p["downsample"]), int(height // p["downsample"]), "bilinear")
    img = ops.gaussian_noise(img, p["noise_sigma"], False, noise)
    img = ops.jpeg(img, p["jpeg_quality"])
    img = ops.resize(img, width, height, "bilinear")
    if p["color_jitter"]:
        img = ops.shift_colours(img, [p["color_shift_r"], p["color_shift_g"], p["color_shift_b"]])
    if p["gray"]:
        img = ops.to_gray(img)
    if p["color_adjust"]:
        img = ops.adjust_colours(img, p["color_adjust_order"].split(","), {n: p[n] for n in COLOUR_ADJUSTMENTS})
    return ops.to_uint8(img)


def _sample_second_order(r: SecondOrder, rng: np.random.Generator) -> Record:
    record: Record = {"usm_sharpen": r.usm_sharpen}
    record.update(_sample_stage(r.stage1, rng, "s1_", blur=True))
    blur2 = bool(rng.uniform() < r.blur2_prob)
    record.update(_sample_stage(r.stage2, rng, "s2_", blur=blur2))
    record["final_order"] = "resize_first" if rng.uniform() < r.resize_first_prob else "jpeg_first"
    record["final_resize_mode"] = str(r.final_resize_modes[rng.integers(len(r.final_resize_modes))])
    sinc = bool(rng.uniform() < r.final_sinc_prob)
    record["final_sinc"] = sinc
    record["final_sinc_size"] = int(r.final_sinc_sizes[rng.integers(len(r.final_sinc_sizes))]) if sinc else None
    record["final_sinc_cutoff"] = float(rng.uniform(*r.final_sinc_cutoff)) if sinc else None
    record["noise_seed"] = _seed(rng)
    return record


def _sample_stage(s: Stage, rng: np.random.Generator, prefix: str, blur: bool) -> Record:
    record: Record = {prefix + "blur": blur}
    if blur:
        record.update(sample_kernel(s.kernel, rng, prefix + "kernel_"))
    else:
        record.update({f"{prefix}kernel_{field}": None for field in KERNEL_FIELDS})
    direction = choose(rng, s.resize_prob)
    low, high = s.resize
    record[prefix + "resize"] = direction
    if direction == "keep":
        record[prefix + "resize_scale"] = 1.0
    else:
        record[prefix + "resize_scale"] = float(rng.uniform(1.0, high) if direction == "up" else rng.uniform(low, 1.0))
    record[prefix + "resize_mode"] = str(s.resize_modes[rng.integers(len(s.resize_modes))])
    gaussian = bool(rng.uniform() < s.gaussian_noise_prob)
    record[prefix + "noise"] = "gaussian" if gaussian else "poisson"
    record[prefix + "noise_sigma"] = float(rng.uniform(*s.noise_sigma)) if gaussian else None
    record[prefix + "poisson_scale"] = None if gaussian else float(rng.uniform(*s.poisson_scale))
    record[prefix + "noise_gray"] = bool(rng.uniform() < s.gray_noise_prob)
    record[prefix + "jpeg_quality"] = int(rng.uniform(*s.jpeg_quality))
    return record


def _apply_second_order(hq: np.ndarray, p: Record, r: SecondOrder) -> np.ndarray:
    height, width = hq.shape[:2]
    noise = np.random.Generator(np.random.PCG64(p["noise_seed"]))
    img = ops.to_float(hq)
    if p["usm_sharpen"]:
        img = ops.usm_sharpen(img)
    img = ops.blur(img, build_kernel(p, "s1_kernel_"))
    scale = p["s1_resize_scale"]
    img = ops.resize(img, int(width * scale), int(height * scale), p["s1_resize_mode"])
    img = ops.jpeg(_noise(img, p, "s1_", noise), p["s1_jpeg_quality"])
    if p["s2_blur"]:
        img = ops.blur(img, build_kernel(p, "s2_kernel_"))
    scale = p["s2_resize_scale"] / r.scale
    img = ops.resize(img, int(width * scale), int(height * scale), p["s2_resize_mode"])
    img = _noise(img, p, "s2_", noise)
    if p["final_order"] == "resize_first":
        img = ops.jpeg(_final_resize(img, p, width // r.scale, height // r.scale), p["s2_jpeg_quality"])
    else:
        img = _final_resize(ops.jpeg(img, p["s2_jpeg_quality"]), p, width // r.scale, height // r.scale)
    return ops.to_uint8(ops.resize(np.clip(img, 0.0, 1.0), width, height, "bilinear"))


def _noise(img: np.ndarray, p: Record, prefix: str, rng: np.random.Generator) -> np.ndarray:
    if p[prefix + "noise"] == "gaussian":
        return ops.gaussian_noise(img, p[prefix + "noise_sigma"], p[prefix + "noise_gray"], rng)
    return ops.poisson_noise(img, p[prefix + "poisson_scale"], p[prefix + "noise_gray"], rng)


def _final_resize(img: np.ndarray, p: Record, width: int, height: int) -> np.ndarray:
    img = ops.resize(img, width, height, p["final_resize_mode"])
    if p["final_sinc"]:
        img = ops.blur(img, sinc_kernel(p["final_sinc_cutoff"], p["final_sinc_size"]))
    return img


def _seed(rng: np.random.Generator) -> int:
    return int(rng.integers(2**63))


def _opt(value: Any) -> float | None:
    return None if value is None else float(value)
