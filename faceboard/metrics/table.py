"""The metric table: each name with its mode, direction, backend and the weight files it needs.

Importing this module imports no torch; `availability()` only looks at files and installed packages.

Modes, as pyiqa's `metric_mode`: a `no-reference` metric scores each image alone; a `full-reference`
metric scores it against its ground truth (the paired track); a `set` metric is computed over a method's
whole output set. The no-reference leaderboard (params `metrics`) takes no-reference and set metrics,
the paired track (params `paired.metrics`) full-reference ones.

A backend is built as `Backend(spec, options, device)` and has `spec` and `provenance() -> dict`.
A per-image metric is called on a batch (N,3,H,W float in [0,1]) and returns N scores; a full-reference
one on the batch and its references, `metric(restored, reference)`. A set metric's `features(batch)`
returns one feature row per image (N,D), and `compute(features)` turns the rows of all the method's
images into one value, which enters only the overall (`all`) row of a leaderboard.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from collections.abc import Mapping
from dataclasses import dataclass, field

from faceboard.files import sha256_file
from faceboard.plugins import unknown
from faceboard.weights.registry import MISMATCH, hf_snapshot
from faceboard.weights.registry import get as get_weight

PYIQA = "faceboard.metrics.pyiqa_backend:PyiqaMetric"

NO_REFERENCE, FULL_REFERENCE, SET = MODES = ("no-reference", "full-reference", "set")
WITHOUT_REFERENCE = (NO_REFERENCE, SET)  # what an image set is scored by without its ground truth


class MetricUnavailable(RuntimeError):
    """A metric cannot run here (a weight file is missing and cannot be provisioned)."""


@dataclass(frozen=True)
class MetricSpec:
    name: str
    lower_better: bool
    entry: str
    weights: tuple[str, ...] = ()
    requires: tuple[str, ...] = ()  # distributions the backend needs beyond the core, optionally "name==version"
    hf_models: tuple[str, ...] = ()  # Hugging Face model repos loaded from the HF cache
    official: bool = False  # one of the six NTIRE 2025 score terms
    mode: str = NO_REFERENCE  # one of MODES
    note: str = ""
    options: dict = field(default_factory=dict)  # defaults passed to the backend
    path_options: dict[str, str] = field(default_factory=dict)  # backend option -> weight whose local path it gets
    replaced_by_option: dict[str, str] = field(default_factory=dict)  # weight -> option that supplies it instead

    @property
    def set_metric(self) -> bool:
        """One value over a method's whole output set, never per image."""
        return self.mode == SET

    def needed_weights(self, options: Mapping[str, object]) -> tuple[str, ...]:
        """The weight files this metric loads with `options`."""
        return tuple(w for w in self.weights if options.get(self.replaced_by_option.get(w)) is None)


METRICS: dict[str, MetricSpec] = {
    m.name: m
    for m in (
        MetricSpec("niqe", True, "faceboard.metrics.niqe:NIQE", ("niqe_params",), official=True,
                   note="pyiqa's NIQE (MATLAB pristine model), re-implemented ~10x faster, equal to it to 1e-6"),
        # pyiqa's CLIP loader re-downloads an RN50.pt whose sha256 differs; faceboard checks the digest
        # itself and hands pyiqa the local file, so nothing is ever downloaded behind its back.
        MetricSpec("clipiqa", False, PYIQA, ("clip_rn50",), official=True, note="pyiqa CLIP-IQA (RN50)",
                   path_options={"backbone": "clip_rn50"}),
        MetricSpec("maniqa", False, PYIQA, ("maniqa_koniq", "vit_base_patch8_224"), official=True,
                   note="pyiqa MANIQA, KonIQ checkpoint"),
        MetricSpec("musiq", False, PYIQA, ("musiq_koniq",), official=True, note="pyiqa MUSIQ, KonIQ checkpoint",
                   path_options={"pretrained_model_path": "musiq_koniq"}),
        MetricSpec("qalign", False, PYIQA, (), requires=("transformers==4.37.2", "icecream"),
                   hf_models=("q-future/one-align",), official=True,
                   note="pyiqa Q-Align (mPLUG-Owl2 7B, meant for a GPU)"),
        MetricSpec("fid", True, "faceboard.metrics.fid:FID", ("fid_inception", "fid_ffhq512_stats"), official=True,
                   mode=SET, replaced_by_option={"fid_ffhq512_stats": "reference_dir"},
                   note="set metric over all outputs vs FFHQ-512 statistics (or option reference_dir)"),
        MetricSpec("piqe", True, PYIQA, note="pyiqa PIQE, needs no weights"),
        # the paired track's, against the HQ faces; pyiqa's defaults kept
        MetricSpec("psnr", False, PYIQA, mode=FULL_REFERENCE,
                   note="pyiqa psnr: RGB, data range 1 (test_y_channel=False)"),
        MetricSpec("ssim", False, PYIQA, mode=FULL_REFERENCE,
                   note="pyiqa ssim: Y channel (test_y_channel=True), no downsampling"),
        MetricSpec("lpips", True, PYIQA, ("lpips_alex", "alexnet_imagenet"), mode=FULL_REFERENCE,
                   note="pyiqa lpips: v0.1, AlexNet trunk", path_options={"pretrained_model_path": "lpips_alex"}),
    )
}


def names(modes: tuple[str, ...] = MODES) -> list[str]:
    """The metrics of `modes`, in table order."""
    return [name for name, spec in METRICS.items() if spec.mode in modes]


def get(name: str, modes: tuple[str, ...] = MODES) -> MetricSpec:
    """Metric `name`, which must be of one of `modes`; a KeyError names the ones that are."""
    spec = METRICS.get(name)
    if spec is None:
        raise unknown("metric", name, names(modes))
    if spec.mode not in modes:
        raise KeyError(f"{name} is a {spec.mode} metric, not {' or '.join(modes)}; "
                       f"known: {', '.join(sorted(names(modes)))}")
    return spec


def availability(name: str, options: Mapping[str, object] | None = None) -> tuple[bool, str]:
    """Whether `name` can run here, and if not, everything that is missing and how to fix it."""
    spec = get(name)
    problems = [*_hf_problems(spec.hf_models), *_package_problems(spec.requires)]
    if importlib.util.find_spec(spec.entry.partition(":")[0]) is None:
        problems.append("backend not implemented in this faceboard version")
    provisioned, mismatched = [], []
    for weight_name in spec.needed_weights(options or {}):
        weight = get_weight(weight_name)
        if weight.present():
            if weight.trust(sha256_file(weight.path)).state == MISMATCH:
                mismatched.append(weight.file_name)
            continue
        if weight.provision:
            provisioned.append(weight.file_name)
        else:
            problems.append(f"missing {weight.file_name}: {weight.fix}")
    if problems:
        return False, "; ".join(problems)
    if mismatched:
        return True, f"runs, but {', '.join(mismatched)} differ(s) from the published sha256: not comparable"
    if provisioned:
        return True, f"{', '.join(provisioned)} will be provisioned offline"
    return True, "ready"


def _package_problems(requires: tuple[str, ...]) -> list[str]:
    problems = []
    for requirement in requires:
        dist, _, pinned = requirement.partition("==")
        try:
            found = importlib.metadata.version(dist)
        except importlib.metadata.PackageNotFoundError:
            problems.append(f"needs python package {requirement} (not installed)")
            continue
        if pinned and found != pinned:
            problems.append(f"needs python package {requirement} (installed: {found})")
    return problems


def _hf_problems(repos: tuple[str, ...]) -> list[str]:
    problems = []
    for repo in repos:
        revision, folder = hf_snapshot(repo)
        if revision is None:
            problems.append(f"needs {repo} in the Hugging Face cache (not in {folder}; "
                            f"fetch it online with `FACEBOARD_ONLINE=1 hf download {repo}`)")
    return problems


def load(name: str, options: dict | None = None, device: str = "cpu", modes: tuple[str, ...] = WITHOUT_REFERENCE):
    """Instantiate metric `name`'s backend, which must be of one of `modes` (by default those that need no ground
    truth); raises MetricUnavailable with the fix when it cannot run."""
    import torch

    from faceboard.plugins import resolve

    spec = get(name, modes)
    ok, reason = availability(name, options)
    if not ok:
        raise MetricUnavailable(f"{name}: {reason}")
    try:
        return resolve(spec.entry)(spec, options or {}, torch.device(device))
    except MetricUnavailable:
        raise
    except Exception as err:
        raise MetricUnavailable(f"{name}: failed to load: {type(err).__name__}: {err}") from err
