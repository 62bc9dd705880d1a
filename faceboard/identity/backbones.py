"""Registry of face-ID backbones. Entries are "module:callable" strings, imported only when loaded,
so importing this module pulls in neither dlib nor torch."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from faceboard.plugins import resolve, unknown


@dataclass(frozen=True)
class BackboneSpec:
    """What a backbone is and where its implementation lives."""

    name: str
    entry: str  # "package.module:Callable"; called as Callable(device=...) and returns a Backbone
    embedding_dim: int
    official: bool  # True only for the challenge's own network (AdaFace IR-50)
    description: str


class Backbone(Protocol):
    """A loaded face-ID network."""

    spec: BackboneSpec

    def embed(self, images_rgb: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray:
        """(N, D) float32 L2-normalised embeddings; image i is aligned with its own (5, 2) landmarks[i]."""
        ...

    def provenance(self) -> dict[str, Any]:
        """Backbone name, weight files with their sha256, and library versions."""
        ...


class BackboneUnavailable(RuntimeError):
    """The backbone's weights are not here; the message says where to get them and where they go."""


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
        BackboneSpec(
            name="adaface_ir50",
            entry="faceboard.identity.adaface:AdaFaceIR50",
            embedding_dim=512,
            official=True,
            description="AdaFace IR-50 (MS1MV2): the official NTIRE 2025 identity gate",
        ),
        BackboneSpec(
            name="dlib_resnet",
            entry="faceboard.identity.dlib_resnet:DlibResNet",
            embedding_dim=128,
            official=False,
            description="dlib ResNet-29 face descriptor (face_recognition_models weights, CC0); offline stand-in",
        ),
    )
}


def load_backbone(name: str, device: str = "cpu") -> Backbone:
    """Import and construct the backbone registered as `name`."""
    if name not in BACKBONES:
        raise unknown("ID backbone", name, BACKBONES)
    return resolve(BACKBONES[name].entry)(device=device)
