"""What the torch restorers share: option checking, device and dtype, image <-> tensor, checkpoint loading.

Checkpoints load from faceboard's weight table only (never downloaded here), with
`faceboard.weights.load.load_tensors` (tensors only) and a strict key check, so a wrong or truncated file fails loudly.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import torch
from torch import nn

from faceboard.imageio import to_batch
from faceboard.weights.load import load_tensors
from faceboard.weights.registry import get as get_weight


def take_options(method: str, options: dict, defaults: dict[str, Any]) -> dict[str, Any]:
    """`defaults` overridden by `options`; unknown names or values of the wrong type raise ValueError."""
    extra = set(options) - set(defaults)
    if extra:
        raise ValueError(f"unknown options for {method}: {sorted(extra)}; known: {sorted(defaults)}")
    taken = dict(defaults)
    for name, value in options.items():
        kind = type(defaults[name])
        if kind is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        if type(value) is not kind:
            raise ValueError(f"option {name!r} of {method} must be a {kind.__name__}, got {value!r}")
        taken[name] = value
    return taken


def check_range(method: str, name: str, value: float, low: float, high: float) -> None:
    if not low <= value <= high:
        raise ValueError(f"option {name!r} of {method} must lie in [{low}, {high}], got {value}")


def dtype_for(method: str, fp16: bool, device: str) -> torch.dtype:
    """float16 where asked for and possible (CUDA only), else float32."""
    if fp16 and not device.startswith("cuda"):
        raise ValueError(f"{method}: fp16 runs on CUDA only, not on {device!r}")
    return torch.float16 if fp16 else torch.float32


def to_tensor(images: list[np.ndarray], device: str, dtype: torch.dtype) -> torch.Tensor:
    """HxWx3 uint8 RGB images -> an NCHW batch in [-1, 1]."""
    return (to_batch(images).to(device) * 2.0 - 1.0).to(dtype).contiguous()


def to_images(batch: torch.Tensor) -> list[np.ndarray]:
    """An NCHW batch in [-1, 1] -> HxWx3 uint8 RGB images (clipped, rounded)."""
    scaled = (batch.float().clamp(-1.0, 1.0) + 1.0) * 127.5
    return list(scaled.round().to(torch.uint8).permute(0, 2, 3, 1).cpu().numpy())


def load_checkpoint(weight_name: str, keys: tuple[str, ...] = ()) -> dict[str, torch.Tensor]:
    """The state dict in a registry weight file, loaded tensor-only: under the first of `keys` it has, if given."""
    weight = get_weight(weight_name)
    if not weight.present():
        raise FileNotFoundError(f"weight file {weight.file_name} ({weight.name}) is missing: {weight.fix}")
    checkpoint = load_tensors(weight.path)
    if not keys:
        return checkpoint
    found = [key for key in keys if isinstance(checkpoint, dict) and key in checkpoint]
    if not found:
        has = sorted(checkpoint) if isinstance(checkpoint, dict) else type(checkpoint).__name__
        raise ValueError(f"{weight.path}: none of {list(keys)} in the checkpoint (it has {has})")
    return checkpoint[found[0]]


def load_strict(module: nn.Module, state: dict[str, torch.Tensor], weight_name: str) -> nn.Module:
    """Load `state` into `module`, every key and shape matching; returns the module in eval mode."""
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        raise ValueError(f"{get_weight(weight_name).path} does not fit {type(module).__name__}: {err}") from None
    return module.eval().requires_grad_(False)
