"""The metric table: each name with its direction, backend and the weight files it needs.

Importing this module imports no torch; `availability()` only looks at files.
"""

from __future__ import annotations

import importlib.util
from dataclasses import dataclass, field

from faceboard.plugins import unknown
from faceboard.weights.registry import get as get_weight

PYIQA = "faceboard.metrics.pyiqa_backend:PyiqaMetric"


class MetricUnavailable(RuntimeError):
    """A metric cannot run here (a weight file is missing and cannot be provisioned)."""


@dataclass(frozen=True)
class MetricSpec:
    name: str
    lower_better: bool
    entry: str
    weights: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # importable modules the backend needs beyond the core
    official: bool = False  # one of the six NTIRE 2025 score terms
    note: str = ""
    options: dict = field(default_factory=dict)  # defaults passed to the backend


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("niqe", True, PYIQA, ("niqe_params",), official=True, note="pyiqa NIQE, MATLAB pristine model"),
        MetricSpec("clipiqa", False, PYIQA, ("clip_rn50",), official=True, note="pyiqa CLIP-IQA (RN50)"),
        MetricSpec("maniqa", False, PYIQA, ("maniqa_koniq", "vit_base_patch8_224"), official=True,
                   note="pyiqa MANIQA, KonIQ checkpoint"),
        MetricSpec("musiq", False, PYIQA, ("musiq_koniq",), official=True, note="pyiqa MUSIQ, KonIQ checkpoint"),
        MetricSpec("qalign", False, PYIQA, (), requires=("icecream",), official=True,
                   note="pyiqa Q-Align: q-future/one-align from the Hugging Face cache, transformers 4.37.2"),
        MetricSpec("fid", True, "faceboard.metrics.fid:FID", ("fid_inception", "fid_ffhq512_stats"), official=True,
                   note="set metric over all outputs vs FFHQ-512 statistics"),
        MetricSpec("piqe", True, PYIQA, note="pyiqa PIQE, needs no weights"),
    )
}


def get(name: str) -> MetricSpec:
    try:
        return METRICS[name]
    except KeyError:
        raise unknown("metric", name, METRICS) from None


def availability(name: str) -> tuple[bool, str]:
    """Whether `name` can run here, and if not, what is missing and how to fix it."""
    spec = get(name)
    missing = [m for m in spec.requires if importlib.util.find_spec(m) is None]
    if missing:
        return False, f"python package(s) missing: {', '.join(missing)}"
    if importlib.util.find_spec(spec.entry.partition(":")[0]) is None:
        return False, "backend not implemented in this faceboard version"
    for weight_name in spec.weights:
        weight = get_weight(weight_name)
        if weight.present():
            continue
        if weight.provision:
            return True, f"{weight.file_name} will be provisioned offline"
        return False, f"missing {weight.file_name}: download {weight.urls[0]} to {weight.path}"
    return True, "ready"


def load(name: str, options: dict | None = None, device: str = "cpu"):
    """Instantiate metric `name`'s backend; raises MetricUnavailable with the fix when it cannot run."""
    import torch

    from faceboard.plugins import resolve

    spec = get(name)
    ok, reason = availability(name)
    if not ok:
        raise MetricUnavailable(f"{name}: {reason}")
    return resolve(spec.entry)(spec, options or {}, torch.device(device))
