"""AdaFace IR-50 (MS1MV2), the official NTIRE 2025 identity backbone.

The network is written here, key-compatible with the released checkpoint
(`adaface_ir50_ms1mv2.ckpt`: a Lightning checkpoint whose `state_dict` keys carry a `model.` prefix,
beside the training head under `head.`). Input: a 112x112 face aligned with the 5 LQ landmarks,
BGR, `(x / 255 - 0.5) / 0.5`; output: a 512-d L2-normalised embedding.
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import torch
from torch import nn

from faceboard.files import sha256_file
from faceboard.identity.align import align_face
from faceboard.identity.backbones import BACKBONES, BackboneSpec, BackboneUnavailable
from faceboard.weights.load import load_tensors
from faceboard.weights.registry import get as get_weight

# (in_channels, depth, units) of the four IR-50 stages; each stage's first unit has stride 2.
IR50_STAGES = ((64, 64, 3), (64, 128, 4), (128, 256, 14), (256, 512, 3))
EMBEDDING_DIM = 512
WEIGHT_NAME = "adaface_ir50_ms1mv2"


class BasicBlockIR(nn.Module):
    """Pre-activation residual unit of the IR (improved ResNet) family."""

    def __init__(self, in_channels: int, depth: int, stride: int) -> None:
        super().__init__()
        if in_channels == depth:
            self.shortcut_layer = nn.MaxPool2d(1, stride)
        else:
            self.shortcut_layer = nn.Sequential(
                nn.Conv2d(in_channels, depth, 1, stride, bias=False), nn.BatchNorm2d(depth))
        self.res_layer = nn.Sequential(
            nn.BatchNorm2d(in_channels),
            nn.Conv2d(in_channels, depth, 3, 1, 1, bias=False),
            nn.BatchNorm2d(depth),
            nn.PReLU(depth),
            nn.Conv2d(depth, depth, 3, stride, 1, bias=False),
            nn.BatchNorm2d(depth),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.res_layer(x) + self.shortcut_layer(x)


class IR50(nn.Module):
    """IR-50 for 112x112 faces; forward returns (L2-normalised embedding, its norm)."""

    def __init__(self) -> None:
        super().__init__()
        self.input_layer = nn.Sequential(nn.Conv2d(3, 64, 3, 1, 1, bias=False), nn.BatchNorm2d(64), nn.PReLU(64))
        units = []
        for in_channels, depth, count in IR50_STAGES:
            units.append(BasicBlockIR(in_channels, depth, 2))
            units += [BasicBlockIR(depth, depth, 1) for _ in range(count - 1)]
        self.body = nn.Sequential(*units)
        self.output_layer = nn.Sequential(
            nn.BatchNorm2d(512), nn.Dropout(0.4), nn.Flatten(),
            nn.Linear(512 * 7 * 7, EMBEDDING_DIM), nn.BatchNorm1d(EMBEDDING_DIM, affine=False))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        features = self.output_layer(self.body(self.input_layer(x)))
        norm = torch.norm(features, 2, 1, keepdim=True)
        return features / norm, norm


def load_checkpoint(path: Path) -> IR50:
    """Load the released checkpoint tensors-only (`load_tensors`) with a strict key check."""
    checkpoint = load_tensors(path, allow=[argparse.Namespace])  # Lightning stores hparams as a Namespace
    state = checkpoint.get("state_dict", checkpoint)
    weights = {k.removeprefix("model."): v for k, v in state.items() if k.startswith("model.")}
    if not weights:
        raise ValueError(f"{path}: no `model.`-prefixed keys in its state_dict; not an AdaFace checkpoint")
    with torch.device("meta"):  # no memory for random initial weights: the checkpoint's tensors are assigned
        model = IR50()
    missing, unexpected = model.load_state_dict(weights, strict=False, assign=True)
    if missing or unexpected:
        raise ValueError(f"{path}: not an AdaFace IR-50 checkpoint (missing keys {missing[:5]}, "
                         f"unexpected {unexpected[:5]})")
    return model.eval()


def to_input(aligned_rgb: list[np.ndarray]) -> torch.Tensor:
    """112x112 RGB uint8 faces -> the network's BGR tensor in [-1, 1]."""
    bgr = np.stack(aligned_rgb)[..., ::-1] / 255.0  # float64, then float32, as the official to_input does
    return torch.from_numpy(((bgr - 0.5) / 0.5).astype(np.float32)).permute(0, 3, 1, 2).contiguous()


class AdaFaceIR50:
    """Backbone wrapper: aligns each face with its own landmarks and embeds the batch."""

    spec: BackboneSpec = BACKBONES["adaface_ir50"]
    thread_safe = True  # inference only: concurrent lanes may embed at once
    # images per forward pass, per device type: on a CPU 4 is as fast per image as 8 (benchmarks/score_speed.py)
    # and holds half the activations (~130 MB less per lane)
    max_batch: ClassVar[dict[str, int]] = {"cpu": 4}

    def __init__(self, device: str = "cpu", checkpoint: Path | None = None) -> None:
        weight = get_weight(WEIGHT_NAME)
        self.checkpoint = Path(checkpoint) if checkpoint else weight.path
        if not self.checkpoint.is_file():
            raise BackboneUnavailable(f"adaface_ir50: missing {weight.file_name}; download {weight.urls[0]} "
                                      f"and run `faceboard weights import DIR`, or place it at {weight.path}")
        self.device = torch.device(device)
        # channels-last runs the convolutions about 25% faster on CPU; embeddings agree to ~1e-7
        self.model = load_checkpoint(self.checkpoint).to(self.device, memory_format=torch.channels_last)
        self.digest = sha256_file(self.checkpoint)
        self.trust = weight.trust(self.digest)

    @torch.inference_mode()
    def embed(self, images_rgb: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray:
        aligned = [align_face(image, points, 112) for image, points in zip(images_rgb, landmarks, strict=True)]
        batch = to_input(aligned).to(self.device, memory_format=torch.channels_last)
        embeddings, _ = self.model(batch)
        return embeddings.float().cpu().numpy()

    def provenance(self) -> dict[str, Any]:
        return {
            "backbone": self.spec.name,
            "official": self.spec.official,
            "weights": {self.checkpoint.name: self.digest},
            "weights_trust": {self.checkpoint.name: self.trust.state},
            "weights_verified": self.trust.verified,
            "weights_unverified": {} if self.trust.verified else {self.checkpoint.name: self.trust.why},
            "alignment": {"size": 112, "reference": "arcface_112"},
            "device": str(self.device),
            "libraries": {"torch": torch.__version__},
        }
