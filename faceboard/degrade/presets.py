"""Degradation presets: the parameter ranges of three training pipelines, overridable in params.yaml.

Defaults are the training options of the method each preset is named after (protocol.md,
"Degradation synthesis"):

- `gfpgan`: GFPGAN v1 (`options/train_gfpgan_v1.yml`, FFHQDegradationDataset): 41x41 iso/aniso
  Gaussian blur, sigma 0.1-10; bilinear downsampling by 0.8-8; Gaussian noise 0-20; JPEG 60-100;
  bilinear resize back; on the LQ only: RGB shift (prob 0.3, +-20/255), brightness/contrast/
  saturation/hue jitter (prob 0.3) and gray (prob 0.01).
- `codeformer`: CodeFormer stage 2 (`options/CodeFormer_stage2.yml`, FFHQBlindDataset): the same
  pipeline, harsher: sigma 1-15, downsampling 4-30, noise 0-20, JPEG 30-80, no colour changes.
- `realesrgan`: Real-ESRGAN x4plus second-order pipeline (`train_realesrnet_x4plus.yml`): USM-sharpened
  HQ, then twice blur (six kernel types or a sinc) / random resize / Gaussian or Poisson noise / JPEG,
  then the final resize to 1/4 with a sinc filter (prob 0.8) and JPEG in random order.

Ranges are `[low, high]` (JPEG qualities whole numbers); noise sigma is on the 0-255 scale, Poisson
scale as in basicsr.
`overrides` are deep-merged into a preset's defaults and validated (an unknown key is an error); a
choice table (`types`, `resize_prob`) is replaced whole, so leaving a choice out removes it.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    field_validator,
)

KERNEL_TYPES = ("iso", "aniso", "generalized_iso", "generalized_aniso", "plateau_iso", "plateau_aniso")
RESIZE_MODES = ("area", "bilinear", "bicubic")
RESIZE_DIRECTIONS = ("up", "down", "keep")


def _ordered(span: tuple[float, float]) -> tuple[float, float]:
    if span[0] > span[1]:
        raise ValueError(f"range {list(span)}: low end above high end")
    return span


Span = Annotated[tuple[float, float], AfterValidator(_ordered)]
IntSpan = Annotated[tuple[int, int], AfterValidator(_ordered)]
Prob = Annotated[float, Field(ge=0.0, le=1.0)]


def _weights(choices: dict[str, float], known: tuple[str, ...]) -> dict[str, float]:
    unknown = sorted(set(choices) - set(known))
    if unknown:
        raise ValueError(f"unknown choices {unknown}; known: {', '.join(known)}")
    if any(w < 0 for w in choices.values()) or sum(choices.values()) <= 0:
        raise ValueError(f"choice weights must be >= 0 with a positive sum, got {choices}")
    return choices


class _Ranges(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Kernel(_Ranges):
    """A blur kernel: size, type (by weight), widths, rotation and shape; a sinc instead with `sinc_prob`."""

    sizes: tuple[int, ...]
    types: dict[str, float]
    sigma: Span
    rotation: Span = (-math.pi, math.pi)
    beta_generalized: Span = (0.5, 4.0)
    beta_plateau: Span = (1.0, 2.0)
    sinc_prob: Prob = 0.0
    sinc_cutoff: Span = (math.pi / 3, math.pi)  # radians, for kernels smaller than 13
    sinc_cutoff_large: Span = (math.pi / 5, math.pi)  # for kernels of 13 and more

    @field_validator("sizes")
    @classmethod
    def _odd(cls, sizes: tuple[int, ...]) -> tuple[int, ...]:
        if not sizes or any(s < 3 or s % 2 == 0 for s in sizes):
            raise ValueError(f"kernel sizes must be odd and >= 3, got {list(sizes)}")
        return sizes

    @field_validator("types")
    @classmethod
    def _types(cls, types: dict[str, float]) -> dict[str, float]:
        return _weights(types, KERNEL_TYPES)

    @field_validator("sigma", "beta_generalized", "beta_plateau")
    @classmethod
    def _positive(cls, span: tuple[float, float]) -> tuple[float, float]:
        if span[0] <= 0:
            raise ValueError(f"range {list(span)} must be positive")
        return span


class OneOrder(_Ranges):
    """GFPGAN / CodeFormer FFHQ degradation: blur, downsample, noise, JPEG, resize back, LQ colour changes."""

    pipeline: Literal["one_order"] = "one_order"
    kernel: Kernel
    downsample: Span
    noise_sigma: Span
    jpeg_quality: IntSpan
    color_jitter_prob: Prob = 0.0
    color_jitter_shift: float = Field(20.0, ge=0)  # +- per RGB channel, 0-255 scale
    color_jitter_pt_prob: Prob = 0.0  # brightness, contrast, saturation, hue in random order
    brightness: Span = (0.5, 1.5)
    contrast: Span = (0.5, 1.5)
    saturation: Span = (0.0, 1.5)
    hue: Span = (-0.1, 0.1)
    gray_prob: Prob = 0.0

    @field_validator("downsample")
    @classmethod
    def _scale(cls, span: tuple[float, float]) -> tuple[float, float]:
        if span[0] <= 0:
            raise ValueError(f"downsample factors must be positive, got {list(span)}")
        return span

    @field_validator("jpeg_quality")
    @classmethod
    def _quality(cls, span: tuple[int, int]) -> tuple[int, int]:
        return _jpeg(span)


class Stage(_Ranges):
    """One order of the Real-ESRGAN pipeline: blur, random resize, Gaussian or Poisson noise, JPEG."""

    kernel: Kernel
    resize_prob: dict[str, float]  # up / down / keep
    resize: Span  # factor: `up` draws from [1, high], `down` from [low, 1]
    resize_modes: tuple[str, ...] = RESIZE_MODES
    gaussian_noise_prob: Prob
    noise_sigma: Span
    poisson_scale: Span
    gray_noise_prob: Prob
    jpeg_quality: IntSpan

    @field_validator("resize_prob")
    @classmethod
    def _directions(cls, weights: dict[str, float]) -> dict[str, float]:
        return _weights(weights, RESIZE_DIRECTIONS)

    @field_validator("resize")
    @classmethod
    def _around_one(cls, span: tuple[float, float]) -> tuple[float, float]:
        if not 0 < span[0] <= 1 <= span[1]:
            raise ValueError(f"resize range {list(span)} must hold 1 and be positive")
        return span

    @field_validator("resize_modes")
    @classmethod
    def _modes(cls, modes: tuple[str, ...]) -> tuple[str, ...]:
        return _modes(modes)

    @field_validator("jpeg_quality")
    @classmethod
    def _quality(cls, span: tuple[int, int]) -> tuple[int, int]:
        return _jpeg(span)


class SecondOrder(_Ranges):
    """Real-ESRGAN's second-order degradation, resized back to the input size at the end."""

    pipeline: Literal["second_order"] = "second_order"
    usm_sharpen: bool = True  # Real-ESRGAN degrades the USM-sharpened HQ
    scale: int = Field(4, ge=1)  # the LQ is 1/scale of the input before it is resized back
    stage1: Stage
    blur2_prob: Prob = 0.8
    stage2: Stage
    final_sinc_prob: Prob = 0.8
    final_sinc_sizes: tuple[int, ...] = tuple(range(7, 22, 2))
    final_sinc_cutoff: Span = (math.pi / 3, math.pi)
    final_resize_modes: tuple[str, ...] = RESIZE_MODES
    resize_first_prob: Prob = 0.5  # final resize + sinc before the last JPEG (else after it)

    @field_validator("final_resize_modes")
    @classmethod
    def _modes(cls, modes: tuple[str, ...]) -> tuple[str, ...]:
        return _modes(modes)


def _jpeg(span: tuple[int, int]) -> tuple[int, int]:
    if span[0] < 0 or span[1] > 100:
        raise ValueError(f"JPEG quality must lie in [0, 100], got {list(span)}")
    return span


def _modes(modes: tuple[str, ...]) -> tuple[str, ...]:
    if not modes or set(modes) - set(RESIZE_MODES):
        raise ValueError(f"resize modes must be a non-empty subset of {RESIZE_MODES}, got {list(modes)}")
    return modes


Ranges = OneOrder | SecondOrder
_RANGES = TypeAdapter(Annotated[Ranges, Field(discriminator="pipeline")])

_MIXED = {"iso": 0.45, "aniso": 0.25, "generalized_iso": 0.12, "generalized_aniso": 0.03,
          "plateau_iso": 0.12, "plateau_aniso": 0.03}
_ESRGAN_SIZES = list(range(7, 22, 2))

PRESETS: dict[str, dict[str, Any]] = {
    "gfpgan": {
        "pipeline": "one_order",
        "kernel": {"sizes": [41], "types": {"iso": 0.5, "aniso": 0.5}, "sigma": [0.1, 10]},
        "downsample": [0.8, 8], "noise_sigma": [0, 20], "jpeg_quality": [60, 100],
        "color_jitter_prob": 0.3, "color_jitter_shift": 20, "color_jitter_pt_prob": 0.3, "gray_prob": 0.01,
    },
    "codeformer": {
        "pipeline": "one_order",
        "kernel": {"sizes": [41], "types": {"iso": 0.5, "aniso": 0.5}, "sigma": [1, 15]},
        "downsample": [4, 30], "noise_sigma": [0, 20], "jpeg_quality": [30, 80],
    },
    "realesrgan": {
        "pipeline": "second_order",
        "stage1": {
            "kernel": {"sizes": _ESRGAN_SIZES, "types": _MIXED, "sigma": [0.2, 3], "beta_generalized": [0.5, 4],
                       "beta_plateau": [1, 2], "sinc_prob": 0.1},
            "resize_prob": {"up": 0.2, "down": 0.7, "keep": 0.1}, "resize": [0.15, 1.5],
            "gaussian_noise_prob": 0.5, "noise_sigma": [1, 30], "poisson_scale": [0.05, 3],
            "gray_noise_prob": 0.4, "jpeg_quality": [30, 95],
        },
        "blur2_prob": 0.8,
        "stage2": {
            "kernel": {"sizes": _ESRGAN_SIZES, "types": _MIXED, "sigma": [0.2, 1.5], "beta_generalized": [0.5, 4],
                       "beta_plateau": [1, 2], "sinc_prob": 0.1},
            "resize_prob": {"up": 0.3, "down": 0.4, "keep": 0.3}, "resize": [0.3, 1.2],
            "gaussian_noise_prob": 0.5, "noise_sigma": [1, 25], "poisson_scale": [0.05, 2.5],
            "gray_noise_prob": 0.4, "jpeg_quality": [30, 95],
        },
        "final_sinc_prob": 0.8,
    },
}


def resolve(preset: str, overrides: Mapping[str, Any] | None = None) -> Ranges:
    """The validated ranges of `preset` with `overrides` deep-merged into its defaults."""
    if preset not in PRESETS:
        raise KeyError(f"unknown degradation preset {preset!r}; known: {', '.join(PRESETS)}")
    return _RANGES.validate_python(_merge(PRESETS[preset], overrides or {}))


def _merge(base: Mapping[str, Any], extra: Mapping[str, Any]) -> dict[str, Any]:
    """`base` with `extra` laid over it; nested mappings merge, anything else replaces."""
    out = dict(base)
    for key, value in extra.items():
        if isinstance(value, Mapping) and isinstance(out.get(key), Mapping) and key not in ("types", "resize_prob"):
            out[key] = _merge(out[key], value)
        else:
            out[key] = value
    return out
