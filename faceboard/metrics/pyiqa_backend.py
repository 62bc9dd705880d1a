"""pyiqa metrics, created by their pyiqa names with faceboard's weights provisioned first."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from unittest import mock

import numpy as np
import torch

from faceboard.metrics.table import MetricSpec
from faceboard.metrics.weights import locate


class PyiqaMetric:
    """Scores batches of RGB images (N,3,H,W float in [0,1]); no resizing, as the protocol says.

    pyiqa finds its files where faceboard's registry puts them ($TORCH_HOME/hub/..., the HF cache);
    `spec.path_options` hand it a file's local path where its own loader would otherwise fetch it.
    pyiqa unpickles checkpoints with `weights_only=False`; faceboard makes every load tensor-only.
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
    def __call__(self, batch: torch.Tensor) -> np.ndarray:
        scores = self.model(batch.to(self.device))
        return scores.detach().double().cpu().reshape(-1).numpy()  # as precise as pyiqa computed it

    def provenance(self) -> dict:
        return {
            "metric": self.spec.name,
            "backend": "pyiqa",
            "pyiqa": self.pyiqa_version,
            "options": self.options,
            "lower_better": self.spec.lower_better,
            **self.weights.provenance(),
        }


@contextlib.contextmanager
def tensors_only_loads() -> Iterator[None]:
    """Within the block, `torch.load` refuses arbitrary pickles (`weights_only=True`) whatever its caller asks."""
    load = torch.load

    def safe_load(*args, **kwargs):
        kwargs["weights_only"] = True
        return load(*args, **kwargs)

    with mock.patch.object(torch, "load", safe_load):
        yield
