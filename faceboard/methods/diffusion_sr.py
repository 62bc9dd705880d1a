"""Latent-diffusion x4 super-resolution (CompVis LDM, OpenImages) through diffusers, as a face restorer.

A 512x512 face is area-downscaled to 128x128 and upscaled x4 back to 512x512 by the model's DDIM
sampler. The LDMSuperResolutionPipeline is assembled from its parts in the Hugging Face cache, by model
id and revision (offline unless FACEBOARD_ONLINE=1), each network checked key by key. The denoising
loop is the pipeline's, run here so that each image has its own torch.Generator, seeded from `seed`
and the image's pixels: an output depends on neither its batch nor its position, and DDIM's eta noise
comes from that generator too (the pipeline's own call draws it from the global RNG).

Options: `model`, `revision`, `steps` (100), `eta` (1.0; the model card's settings), `seed` (0),
`fp16` (False; CUDA only).
"""

from __future__ import annotations

import hashlib

import cv2
import numpy as np
import torch

from faceboard.methods.registry import Restorer
from faceboard.methods.torch_support import (
    check_range,
    dtype_for,
    take_options,
    to_images,
    to_tensor,
)
from faceboard.weights.registry import LDM_SR_X4

MODEL_ID = LDM_SR_X4
SCALE = 4
DEFAULTS = {"model": MODEL_ID, "revision": "main", "steps": 100, "eta": 1.0, "seed": 0, "fp16": False}
# the snapshot's files this restorer reads; weights as .safetensors or .bin
CONFIG_FILES = ("scheduler/scheduler_config.json", "unet/config.json", "vqvae/config.json")
WEIGHT_FILES = ("unet/diffusion_pytorch_model", "vqvae/diffusion_pytorch_model")


def ldm_sr_x4(options: dict, device: str) -> Restorer:
    opts = take_options("ldm-sr-x4", options, DEFAULTS)
    if opts["steps"] < 1:
        raise ValueError(f"option 'steps' of ldm-sr-x4 must be at least 1, got {opts['steps']}")
    check_range("ldm-sr-x4", "eta", opts["eta"], 0.0, 1.0)
    dtype = dtype_for("ldm-sr-x4", opts["fp16"], device)
    from diffusers.utils.torch_utils import randn_tensor

    pipe = _load(opts["model"], opts["revision"], dtype).to(device)
    unet, vqvae, scheduler = pipe.unet, pipe.vqvae, pipe.scheduler
    seed, steps, eta = opts["seed"], opts["steps"], opts["eta"]

    @torch.no_grad()
    def restore(images: list[np.ndarray]) -> list[np.ndarray]:
        h, w = images[0].shape[:2]
        small = [cv2.resize(im, (w // SCALE, h // SCALE), interpolation=cv2.INTER_AREA) for im in images]
        low = to_tensor(small, device, dtype)
        # CPU generators: the same noise whatever the device
        generators = [torch.Generator("cpu").manual_seed(image_seed(seed, im)) for im in images]
        shape = (len(images), unet.config.in_channels - low.shape[1], *low.shape[2:])
        latents = randn_tensor(shape, generator=generators, device=device, dtype=dtype) * scheduler.init_noise_sigma
        scheduler.set_timesteps(steps, device=device)
        for t in scheduler.timesteps:
            model_input = scheduler.scale_model_input(torch.cat([latents, low], dim=1), t)
            latents = scheduler.step(unet(model_input, t).sample, t, latents, eta=eta, generator=generators).prev_sample
        return to_images(vqvae.decode(latents).sample)

    return restore


def image_seed(seed: int, image: np.ndarray) -> int:
    """A 64-bit seed from the run's seed and the image's pixels."""
    digest = hashlib.sha256(seed.to_bytes(8, "little", signed=True) + np.ascontiguousarray(image).tobytes())
    return int.from_bytes(digest.digest()[:8], "little")


def _load(model: str, revision: str, dtype: torch.dtype):
    """The pipeline from its parts, each network checked key by key (diffusers only warns on a mismatch)."""
    from diffusers import (
        DDIMScheduler,
        LDMSuperResolutionPipeline,
        UNet2DModel,
        VQModel,
    )

    try:
        unet = _load_strict(UNet2DModel, model, revision, "unet", dtype)
        vqvae = _load_strict(VQModel, model, revision, "vqvae", dtype)
        scheduler = DDIMScheduler.from_pretrained(model, subfolder="scheduler", revision=revision)
    except OSError as err:
        missing = missing_files(model, revision)
        if not missing:
            raise
        urls = ", ".join(f"https://huggingface.co/{model}/resolve/{revision}/{name}" for name in missing)
        raise FileNotFoundError(
            f"{model} (revision {revision}) is not in the Hugging Face cache: missing {urls}. "
            f"Fetch it with `faceboard weights fetch` or `huggingface-cli download {model} --revision {revision}`, "
            "or set FACEBOARD_ONLINE=1 to let it download") from err
    return LDMSuperResolutionPipeline(vqvae=vqvae, unet=unet, scheduler=scheduler)


def _load_strict(cls, model: str, revision: str, subfolder: str, dtype: torch.dtype):
    net, info = cls.from_pretrained(model, subfolder=subfolder, revision=revision, dtype=dtype,
                                    output_loading_info=True)
    wrong = {kind: info[kind] for kind in ("missing_keys", "unexpected_keys") if info[kind]}
    if wrong:
        raise ValueError(f"{model}/{subfolder} (revision {revision}) does not fit {cls.__name__}: {wrong}")
    return net.eval()


def missing_files(model: str, revision: str) -> list[str]:
    """The files the restorer reads that are not in the Hugging Face cache (weights as .safetensors or .bin)."""
    from huggingface_hub import try_to_load_from_cache

    def cached(name: str) -> bool:
        return isinstance(try_to_load_from_cache(model, name, revision=revision), str)

    missing = [name for name in CONFIG_FILES if not cached(name)]
    for stem in WEIGHT_FILES:
        if not (cached(f"{stem}.safetensors") or cached(f"{stem}.bin")):
            missing.append(f"{stem}.bin")
    return missing
