"""GFPGAN v1.4 (TencentARC): the gfpgan package's `clean` architecture with the v1.4 checkpoint.

Options:
- `aligned` (True): the inputs are aligned face crops (NTIRE's are); False runs the detect, align,
  restore and paste-back path (see faceboard.methods.face_crops);
- `weight` (1.0): blend of the restored face with its input, 1 = GFPGAN's output unchanged (the
  upstream script's `--weight` is ignored by the v1.4 architecture, so 1 is what it produces);
- `fp16` (False): half precision, CUDA only.

The StyleGAN2 decoder's noise inputs are the checkpoint's stored noise maps (upstream draws fresh,
unseeded noise on every call), so outputs are deterministic and do not depend on batching.
"""

from __future__ import annotations

import torch

from faceboard.compat import patch_basicsr
from faceboard.methods.face_crops import face_restorer
from faceboard.methods.registry import Restorer
from faceboard.methods.torch_support import (
    check_range,
    dtype_for,
    load_checkpoint,
    load_strict,
    take_options,
)

WEIGHT = "gfpgan_v1_4"
DEFAULTS = {"aligned": True, "weight": 1.0, "fp16": False}


def gfpgan(options: dict, device: str) -> Restorer:
    opts = take_options("gfpgan", options, DEFAULTS)
    check_range("gfpgan", "weight", opts["weight"], 0.0, 1.0)
    dtype = dtype_for("gfpgan", opts["fp16"], device)
    state = load_checkpoint(WEIGHT, ("params_ema", "params"))  # GFPGANer's order
    net = load_strict(build_net(), state, WEIGHT).to(device=device, dtype=dtype)
    weight = opts["weight"]

    def run(faces: torch.Tensor) -> torch.Tensor:
        restored = net(faces, return_rgb=False, randomize_noise=False)[0]
        return restored if weight == 1.0 else weight * restored + (1.0 - weight) * faces

    return face_restorer(run, opts["aligned"], device, dtype)


def build_net() -> torch.nn.Module:
    """The network GFPGANer builds for arch="clean", channel_multiplier=2 (v1.3 and v1.4), untrained."""
    patch_basicsr()
    from gfpgan.archs.gfpganv1_clean_arch import GFPGANv1Clean

    return GFPGANv1Clean(out_size=512, num_style_feat=512, channel_multiplier=2, decoder_load_path=None,
                         fix_decoder=False, num_mlp=8, input_is_latent=True, different_w=True, narrow=1,
                         sft_half=True)
