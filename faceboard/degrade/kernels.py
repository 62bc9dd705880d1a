"""Blur kernels: parameters drawn from the image's own generator, kernels built by basicsr's builders.

basicsr's `random_*` kernel functions draw from the global RNG; only its deterministic builders
(bivariate Gaussian, generalized Gaussian, plateau, circular low-pass) are used here.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from faceboard.compat import patch_basicsr
from faceboard.degrade.presets import Kernel

patch_basicsr()
from basicsr.data import degradations

FIELDS = ("type", "size", "sigma_x", "sigma_y", "rotation", "beta", "cutoff")


def choose(rng: np.random.Generator, weights: dict[str, float]) -> str:
    """One key of `weights`, drawn with probability proportional to its weight."""
    names = list(weights)
    p = np.asarray([weights[n] for n in names], dtype=np.float64)
    return names[int(rng.choice(len(names), p=p / p.sum()))]


def sample_kernel(ranges: Kernel, rng: np.random.Generator, prefix: str) -> dict[str, Any]:
    """Draw one kernel's parameters as `{prefix + field: value}` (None where a field does not apply)."""
    record: dict[str, Any] = dict.fromkeys(FIELDS)
    record["size"] = int(ranges.sizes[rng.integers(len(ranges.sizes))])
    if ranges.sinc_prob and rng.uniform() < ranges.sinc_prob:
        span = ranges.sinc_cutoff if record["size"] < 13 else ranges.sinc_cutoff_large
        record.update(type="sinc", cutoff=float(rng.uniform(*span)))
    else:
        kind = choose(rng, ranges.types)
        sigma_x = float(rng.uniform(*ranges.sigma))
        if _isotropic(kind):
            sigma_y, rotation = sigma_x, 0.0
        else:
            sigma_y, rotation = float(rng.uniform(*ranges.sigma)), float(rng.uniform(*ranges.rotation))
        record.update(type=kind, sigma_x=sigma_x, sigma_y=sigma_y, rotation=rotation)
        if kind.startswith("generalized"):
            record["beta"] = _beta(rng, ranges.beta_generalized)
        elif kind.startswith("plateau"):
            record["beta"] = _beta(rng, ranges.beta_plateau)
    return {prefix + key: value for key, value in record.items()}


def build_kernel(params: dict[str, Any], prefix: str) -> np.ndarray:
    """The normalised kernel that `sample_kernel` described under `prefix`."""
    kind, size = params[prefix + "type"], params[prefix + "size"]
    if kind == "sinc":
        return sinc_kernel(params[prefix + "cutoff"], size)
    shape = (size, params[prefix + "sigma_x"], params[prefix + "sigma_y"], params[prefix + "rotation"])
    iso = _isotropic(kind)
    if kind.startswith("generalized"):
        return degradations.bivariate_generalized_Gaussian(*shape, params[prefix + "beta"], isotropic=iso)
    if kind.startswith("plateau"):
        return degradations.bivariate_plateau(*shape, params[prefix + "beta"], isotropic=iso)
    return degradations.bivariate_Gaussian(*shape, isotropic=iso)


def sinc_kernel(cutoff: float, size: int) -> np.ndarray:
    """A circular low-pass (2-D sinc) kernel with `cutoff` in radians."""
    return degradations.circular_lowpass_kernel(cutoff, size)


def _isotropic(kind: str) -> bool:
    return kind == "iso" or kind.endswith("_iso")


def _beta(rng: np.random.Generator, span: tuple[float, float]) -> float:
    """Shape parameter; as basicsr, half the draws below 1 and half above when the range straddles 1."""
    low, high = span
    if low < 1.0 < high:
        return float(rng.uniform(low, 1.0) if rng.uniform() < 0.5 else rng.uniform(1.0, high))
    return float(rng.uniform(low, high))
