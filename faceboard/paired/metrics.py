"""Full-reference metrics of the paired track (restored output against the HQ ground truth), via pyiqa.

pyiqa defaults are kept: `psnr` on RGB (test_y_channel=False, data range 1), `ssim` on the Y channel
(test_y_channel=True, no downsampling), `lpips` v0.1 on AlexNet. PSNR and SSIM need no weights;
LPIPS needs its linear layers and torchvision's ImageNet AlexNet, never downloaded here: without
them it is unavailable, with the URL and the path each file belongs at.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from faceboard.files import sha256_file
from faceboard.metrics.table import MetricUnavailable
from faceboard.metrics.table import get as get_no_reference
from faceboard.plugins import unknown
from faceboard.weights.registry import WeightFile
from faceboard.weights.registry import get as get_weight

LPIPS_ALEX = get_weight("lpips_alex")
ALEXNET = get_weight("alexnet_imagenet")

ID_SIM_HQ = "id_sim_hq"  # identity similarity of the restored face to the HQ face


@dataclass(frozen=True)
class FullReferenceSpec:
    name: str
    lower_better: bool
    note: str
    weights: tuple[WeightFile, ...] = ()
    path_options: dict[str, WeightFile] = field(default_factory=dict)  # pyiqa option -> local file


FULL_REFERENCE: dict[str, FullReferenceSpec] = {
    spec.name: spec
    for spec in (
        FullReferenceSpec("psnr", False, "pyiqa psnr: RGB, data range 1 (test_y_channel=False)"),
        FullReferenceSpec("ssim", False, "pyiqa ssim: Y channel (test_y_channel=True), no downsampling"),
        FullReferenceSpec("lpips", True, "pyiqa lpips: v0.1, AlexNet trunk", (LPIPS_ALEX, ALEXNET),
                          {"pretrained_model_path": LPIPS_ALEX}),
    )
}


def get(name: str) -> FullReferenceSpec:
    try:
        return FULL_REFERENCE[name]
    except KeyError:
        raise unknown("full-reference metric", name, FULL_REFERENCE) from None


def lower_better(name: str) -> bool:
    """Direction of any column of the paired leaderboard: full-reference, identity or no-reference metric."""
    if name in FULL_REFERENCE:
        return FULL_REFERENCE[name].lower_better
    if name == ID_SIM_HQ:
        return False
    return get_no_reference(name).lower_better


def missing_weights(spec: FullReferenceSpec) -> list[str]:
    """What is missing for `spec`, each with the URL and where it belongs under $TORCH_HOME (so that the
    message, which lands in the outputs, is the same on every machine)."""
    return [f"missing {w.file_name}: download {w.urls[0]} to $TORCH_HOME/hub/{w.location.partition('/')[2]}/"
            f"{w.file_name}" for w in spec.weights if not w.present()]


class FullReferenceMetric:
    """A pyiqa full-reference metric: `metric(restored, reference)` on (N,3,H,W) batches in [0,1]."""

    def __init__(self, spec: FullReferenceSpec, device: str) -> None:
        import pyiqa
        import torch

        problems = missing_weights(spec)
        if problems:
            raise MetricUnavailable(f"{spec.name}: {'; '.join(problems)}")
        self.spec = spec
        self.device = torch.device(device)
        self.digests = {w.file_name: sha256_file(w.path) for w in spec.weights}
        self.unverified = {w.file_name: why for w in spec.weights
                           if (why := w.why_unverified(self.digests[w.file_name]))}
        paths = {option: str(weight.path) for option, weight in spec.path_options.items()}
        self.model = pyiqa.create_metric(spec.name, device=self.device, as_loss=False, **paths)
        self.pyiqa_version = pyiqa.__version__

    def __call__(self, restored, reference) -> np.ndarray:
        import torch

        with torch.inference_mode():
            scores = self.model(restored.to(self.device), reference.to(self.device))
        return scores.detach().float().cpu().reshape(-1).numpy().astype(np.float64)

    def provenance(self) -> dict:
        return {"metric": self.spec.name, "backend": "pyiqa", "pyiqa": self.pyiqa_version, "note": self.spec.note,
                "lower_better": self.spec.lower_better, "weights": self.digests,
                "weights_verified": not self.unverified, "weights_unverified": self.unverified}


def load(name: str, device: str = "cpu") -> FullReferenceMetric:
    """Build metric `name`; MetricUnavailable says what is missing and where it goes."""
    spec = get(name)
    try:
        return FullReferenceMetric(spec, device)
    except MetricUnavailable:
        raise
    except Exception as err:
        raise MetricUnavailable(f"{name}: failed to load: {type(err).__name__}: {err}") from err
