"""pyiqa metrics, created by their pyiqa names with faceboard's weights provisioned first."""

from __future__ import annotations

import numpy as np
import torch

from faceboard.metrics.table import MetricSpec
from faceboard.metrics.weights import locate
from faceboard.weights.load import tensors_only_loads


class PyiqaMetric:
    """Scores batches of RGB images (N,3,H,W float in [0,1]), a full-reference metric against a batch of
    references; no resizing, as the protocol says.

    pyiqa finds its files where faceboard's registry puts them ($TORCH_HOME/hub/..., the HF cache);
    `spec.path_options` hand it a file's local path where its own loader would otherwise fetch it.
    pyiqa (and torchvision, for LPIPS's AlexNet) unpickle checkpoints with `weights_only=False`; faceboard
    makes every load tensors-only.
    """

    def __init__(self, spec: MetricSpec, options: dict, device: torch.device) -> None:
        import pyiqa

        self.spec = spec
        self.options = {**spec.options, **options}
        self.weights = locate(spec, self.options)
        paths = {option: str(self.weights.paths[weight]) for option, weight in spec.path_options.items()}
        with tensors_only_loads():
            self.model = pyiqa.create_metric(spec.name, device=device, as_loss=False, **self.options, **paths)
        self.device = device
        self.pyiqa_version = pyiqa.__version__

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor, reference: torch.Tensor | None = None) -> np.ndarray:
        if reference is None:
            scores = self.model(batch.to(self.device)).double()  # as precise as pyiqa computed it
        else:  # full-reference scores are recorded in float32, as the paired track always has (pyiqa's ssim is float64)
            scores = self.model(batch.to(self.device), reference.to(self.device)).float()
        return scores.detach().cpu().reshape(-1).numpy().astype(np.float64)

    def provenance(self) -> dict:
        return {
            "metric": self.spec.name,
            "backend": "pyiqa",
            "pyiqa": self.pyiqa_version,
            "note": self.spec.note,
            "options": self.options,
            "lower_better": self.spec.lower_better,
            **self.weights.provenance(),
        }
