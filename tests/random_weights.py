"""Random-weight checkpoints of the real architectures, written where the real files go.

They exercise architectures, loaders, shapes and batching only: every number computed from them is
meaningless, and faceboard marks such runs not comparable (the files fail the published digests, or
have none to check against). Each writer is seeded, so a file's bytes are reproducible.
"""

from __future__ import annotations

import argparse
import os
import warnings
from collections.abc import Iterable
from pathlib import Path
from unittest import mock

import numpy as np
import torch
from torch import nn

from faceboard.weights import registry

HF_REVISION = "0" * 40  # the snapshot name of files written into the Hugging Face cache


def cache_env(root: Path) -> dict[str, str]:
    """Environment that points faceboard, torch hub and Hugging Face at `root` (offline)."""
    return {"FACEBOARD_CACHE": str(root), "TORCH_HOME": str(root / "torch"), "HF_HOME": str(root / "huggingface"),
            "HF_HUB_OFFLINE": "1"}


def write_adaface(path: Path) -> Path:
    """A Lightning-style checkpoint like adaface_ir50_ms1mv2.ckpt: `state_dict` with `model.` keys, a head."""
    from faceboard.identity.adaface import IR50

    torch.manual_seed(0)
    state = {f"model.{k}": v for k, v in IR50().state_dict().items()}
    state["head.kernel"] = torch.randn(512, 10)
    return _save({"state_dict": state, "epoch": 25, "hyper_parameters": argparse.Namespace(arch="ir_50")}, path)


def write_musiq(path: Path) -> Path:
    """pyiqa MUSIQ (KonIQ head: one output) state dict."""
    from pyiqa.archs.musiq_arch import MUSIQ

    torch.manual_seed(0)
    return _save(MUSIQ(pretrained=False).state_dict(), path)


def write_vit(hf_home: Path) -> Path:
    """timm vit_base_patch8_224 as model.safetensors in a Hugging Face cache snapshot (MANIQA's backbone)."""
    import safetensors.torch
    import timm

    weight = registry.get("vit_base_patch8_224")
    repo = hf_home / "hub" / f"models--{weight.location.partition('/')[2].replace('/', '--')}"
    path = repo / "snapshots" / HF_REVISION / weight.file_name
    torch.manual_seed(0)
    state = timm.create_model("vit_base_patch8_224", pretrained=False).state_dict()
    path.parent.mkdir(parents=True, exist_ok=True)
    safetensors.torch.save_file({k: v.half().contiguous() for k, v in state.items()}, path)
    (repo / "refs").mkdir(exist_ok=True)
    (repo / "refs" / "main").write_text(HF_REVISION)
    return path


def write_maniqa(path: Path, hf_home: Path) -> Path:
    """pyiqa MANIQA (KonIQ options) state dict, ViT included; needs `write_vit(hf_home)` first."""
    from huggingface_hub import constants
    from pyiqa.archs.maniqa_arch import MANIQA

    torch.manual_seed(0)
    with mock.patch.multiple(constants, HF_HUB_CACHE=str(hf_home / "hub"), HF_HUB_OFFLINE=True):
        model = MANIQA(train_dataset="koniq", scale=0.8, pretrained=False)  # pyiqa's maniqa options
    return _save({k: v.half() for k, v in model.state_dict().items()}, path)


def write_clip_rn50(path: Path) -> Path:
    """OpenAI CLIP RN50 (fp16 where the release is) as a TorchScript archive, like the released RN50.pt.

    pyiqa's loader takes only the archive's state dict (it rebuilds CLIP from it), so a scripted
    tree of the same parameters, without the traced forward, is what it reads.
    """
    from pyiqa.archs.clip_model import CLIP, convert_weights

    torch.manual_seed(0)
    model = CLIP(embed_dim=1024, image_resolution=224, vision_layers=(3, 4, 6, 3), vision_width=64,
                 vision_patch_size=None, context_length=77, vocab_size=49408, transformer_width=512,
                 transformer_heads=8, transformer_layers=12)
    _keep_activation_scale(model)
    convert_weights(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)  # torch.jit is deprecated; pyiqa still reads such archives
        torch.jit.script(_parameter_tree(model)).save(str(path))
    return path


def _parameter_tree(module: nn.Module) -> nn.Module:
    """A forward-less copy of `module`'s parameters and buffers under the same names (scriptable)."""
    tree = nn.Module()
    for name, param in module.named_parameters(recurse=False):
        tree.register_parameter(name, nn.Parameter(param.detach(), requires_grad=False))
    for name, buffer in module.named_buffers(recurse=False):
        tree.register_buffer(name, buffer)
    for name, child in module.named_children():
        tree.add_module(name, _parameter_tree(child))
    return tree


def write_fid_inception(path: Path) -> Path:
    """pytorch-fid's FID InceptionV3 state dict (what pt_inception-2015-12-05-6726825d.pth holds)."""
    import torchvision
    from pytorch_fid import inception

    torch.manual_seed(0)
    # build the FID variant without its released weights: no download, no load
    with mock.patch.object(inception, "load_state_dict_from_url", return_value={}), \
            mock.patch.object(torchvision.models.Inception3, "load_state_dict", return_value=None):
        model = inception.fid_inception_v3()
    _keep_activation_scale(model)
    return _save(model.state_dict(), path)


def write_fid_stats(path: Path) -> Path:
    """BasicSR/VQFR-format statistics: a dict with numpy `mean` (2048,) and `cov` (2048, 2048), legacy format."""
    rng = np.random.default_rng(0)
    basis = rng.standard_normal((2048, 256)) / 16
    stats = {"name": "random", "size": 512, "mean": np.abs(rng.standard_normal(2048)) * 0.3,
             "cov": basis @ basis.T + 1e-3 * np.eye(2048)}
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(stats, path, _use_new_zipfile_serialization=False)
    return path


def write_gfpgan(path: Path) -> Path:
    """GFPGAN v1.4's clean architecture under `params_ema` (fp16 to halve the file; it loads into fp32)."""
    from faceboard.methods.gfpgan import build_net

    torch.manual_seed(0)
    return _save({"params_ema": {k: v.half() for k, v in build_net().state_dict().items()}}, path)


def write_codeformer(path: Path) -> Path:
    """CodeFormer under `params_ema`, like codeformer.pth (fp16 to halve the file)."""
    from faceboard.methods.codeformer_arch import CodeFormer

    torch.manual_seed(0)
    return _save({"params_ema": {k: v.half() for k, v in CodeFormer().state_dict().items()}}, path)


def write_retinaface(path: Path) -> Path:
    """facexlib's RetinaFace ResNet-50 with `module.`-prefixed keys, as the released DataParallel checkpoint."""
    from faceboard.methods.face_crops import new_detector

    torch.manual_seed(0)
    return _save({f"module.{k}": v for k, v in new_detector(torch.device("cpu")).state_dict().items()}, path)


def write_parsenet(path: Path) -> Path:
    """facexlib's ParseNet (512 px, 19 classes) state dict."""
    from faceboard.methods.face_crops import new_parser

    torch.manual_seed(0)
    return _save(new_parser().state_dict(), path)


# The hub's config files are what production loads; these are derived from the latent-diffusion
# repository's models/ldm/bsr_sr/config.yaml (UNet: 160 channels x (1, 2, 2, 4), 2 blocks per level,
# attention at 1/8 scale, 32-channel heads, LR image concatenated; VQ-f4: 128 x (1, 2, 4), 3-d codes, 8192 codes).
LDM_SR_X4_UNET = {
    "sample_size": 64, "in_channels": 6, "out_channels": 3, "layers_per_block": 2,
    "block_out_channels": (160, 320, 320, 640),
    "down_block_types": ("DownBlock2D", "DownBlock2D", "DownBlock2D", "AttnDownBlock2D"),
    "up_block_types": ("AttnUpBlock2D", "UpBlock2D", "UpBlock2D", "UpBlock2D"), "attention_head_dim": 32,
    "flip_sin_to_cos": True, "freq_shift": 0, "norm_num_groups": 32, "norm_eps": 1e-5, "act_fn": "silu"}
LDM_SR_X4_VQVAE = {
    "in_channels": 3, "out_channels": 3, "down_block_types": ("DownEncoderBlock2D",) * 3,
    "up_block_types": ("UpDecoderBlock2D",) * 3, "block_out_channels": (128, 256, 512), "layers_per_block": 2,
    "act_fn": "silu", "latent_channels": 3, "num_vq_embeddings": 8192, "norm_num_groups": 32, "sample_size": 256}
LDM_SR_X4_SCHEDULER = {  # the "linear" schedule of latent-diffusion is diffusers' scaled_linear
    "num_train_timesteps": 1000, "beta_start": 0.0015, "beta_end": 0.0155, "beta_schedule": "scaled_linear",
    "clip_sample": False}


def write_ldm_sr_x4(hf_home: Path) -> Path:
    """The LDM x4 super-resolution pipeline as a Hugging Face cache snapshot (.bin weights, fp16); idempotent."""
    from diffusers import (
        DDIMScheduler,
        LDMSuperResolutionPipeline,
        UNet2DModel,
        VQModel,
    )

    repo = hf_home / "hub" / f"models--{registry.LDM_SR_X4.replace('/', '--')}"
    snapshot = repo / "snapshots" / HF_REVISION
    if not (snapshot / "model_index.json").is_file():
        torch.manual_seed(0)
        vqvae = VQModel(**LDM_SR_X4_VQVAE)
        # diffusers starts the codebook at +-1/8192: every latent would decode to nearly the same image
        nn.init.normal_(vqvae.quantize.embedding.weight)
        pipe = LDMSuperResolutionPipeline(vqvae=vqvae.half(), unet=UNet2DModel(**LDM_SR_X4_UNET).half(),
                                          scheduler=DDIMScheduler(**LDM_SR_X4_SCHEDULER))
        pipe.save_pretrained(snapshot, safe_serialization=False)
        (repo / "refs").mkdir(exist_ok=True)
        (repo / "refs" / "main").write_text(HF_REVISION)
    return snapshot


SNAPSHOT_WRITERS = {name: write_ldm_sr_x4 for name in registry.WEIGHTS if name.startswith("ldm_sr_x4_")}

WRITERS = {
    "gfpgan_v1_4": write_gfpgan,
    "codeformer": write_codeformer,
    "facexlib_detection_resnet50": write_retinaface,
    "facexlib_parsing_parsenet": write_parsenet,
    "adaface_ir50_ms1mv2": write_adaface,
    "musiq_koniq": write_musiq,
    "clip_rn50": write_clip_rn50,
    "fid_inception": write_fid_inception,
    "fid_ffhq512_stats": write_fid_stats,
}


def populate(root: Path, names: Iterable[str]) -> dict[str, str]:
    """Write the named registry weights (plus MANIQA's ViT for `maniqa_koniq`) under `root`; return its env."""
    env = cache_env(root)
    with mock.patch.dict(os.environ, env):
        for name in names:
            if name == "maniqa_koniq":
                write_vit(root / "huggingface")
                write_maniqa(registry.get(name).path, root / "huggingface")
            elif name in SNAPSHOT_WRITERS:  # a whole Hugging Face snapshot, written once for all its files
                SNAPSHOT_WRITERS[name](root / "huggingface")
            else:
                WRITERS[name](registry.get(name).path)
    return env


def _keep_activation_scale(model: nn.Module) -> None:
    """He-normal convolutions and unit BatchNorm scales, so that features neither vanish nor stay constant.

    With the default init (and CLIP's zero-initialised residual branches) a deep random network's
    features shrink to ~1e-7 and barely depend on the image; tests comparing values would prove nothing.
    """
    for module in model.modules():
        if isinstance(module, nn.Conv2d):
            nn.init.kaiming_normal_(module.weight, nonlinearity="relu")
        elif isinstance(module, nn.BatchNorm2d):
            nn.init.ones_(module.weight)


def _save(obj: object, path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save(obj, path)
    return path
