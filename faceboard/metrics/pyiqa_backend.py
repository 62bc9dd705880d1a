"""pyiqa metrics, created by their pyiqa names with faceboard's weights provisioned first."""

from __future__ import annotations

import numpy as np
import torch

from faceboard.metrics.table import MetricSpec, MetricUnavailable
from faceboard.weights.provision import ensure
from faceboard.files import sha256_file
from faceboard.weights.registry import get as get_weight


class PyiqaMetric:
    """Scores batches of RGB images (N,3,H,W float in [0,1]); no resizing, as the protocol says."""

    def __init__(self, spec: MetricSpec, options: dict, device: torch.device) -> None:
        import pyiqa

        self.spec = spec
        self.weight_files, self.verified = {}, []
        for name in spec.weights:
            path = ensure(name)
            weight = get_weight(name)
            if path is None:
                raise MetricUnavailable(f"{spec.name}: missing {weight.file_name} "
                                        f"(download {weight.urls[0]} to {weight.path})")
            self.weight_files[path.name] = sha256_file(path)
            self.verified.append(weight.verify(self.weight_files[path.name]))
        self.options = {**spec.options, **options}
        self.model = pyiqa.create_metric(spec.name, device=device, as_loss=False, **self.options)
        self.device = device
        self.pyiqa_version = pyiqa.__version__

    @torch.inference_mode()
    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        scores = self.model(batch.to(self.device))
        return scores.detach().float().cpu().reshape(-1).numpy().astype(np.float64)

    def provenance(self) -> dict:
        return {
            "metric": self.spec.name,
            "backend": "pyiqa",
            "pyiqa": self.pyiqa_version,
            "options": self.options,
            "lower_better": self.spec.lower_better,
            "weights": self.weight_files,
            "weights_verified": all(v is True for v in self.verified),
        }
