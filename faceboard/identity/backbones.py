"""Registry of face-ID backbones. Entries are "module:callable" strings, imported only when loaded,
so importing this module pulls in neither dlib nor torch."""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np


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


BACKBONES: dict[str, BackboneSpec] = {
    spec.name: spec
    for spec in (
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
    try:
        spec = BACKBONES[name]
    except KeyError:
        raise KeyError(f"unknown ID backbone {name!r}; known backbones: {', '.join(sorted(BACKBONES))}") from None
    module_name, _, attr = spec.entry.partition(":")
    factory = getattr(importlib.import_module(module_name), attr)
    return factory(device=device)
