"""Trust in weight files: only a full sha256 verifies one, and no checkpoint is ever unpickled with code.

A hostile checkpoint carries a `__reduce__` payload that would create a marker folder when unpickled; each
case checks that the payload is live (plain `torch.load(weights_only=False)` runs it), then that faceboard's
loaders refuse the file naming it, the marker never appears and no file in the caches was altered.
"""

from __future__ import annotations

import argparse
import dataclasses
import os
import re
from pathlib import Path

import pytest
import torch

from faceboard.cli.weights import _weights
from faceboard.files import sha256_file
from faceboard.identity.adaface import AdaFaceIR50
from faceboard.methods.torch_support import load_checkpoint
from faceboard.metrics import table
from faceboard.metrics.fid import load_inception, load_stats
from faceboard.metrics.weights import locate
from faceboard.paired.scoring import PairedScorer
from faceboard.scoring.comparability import method_reasons
from faceboard.weights import manage, registry
from faceboard.weights.load import UnsafeCheckpoint, load_tensors
from tests.faults.snapshot import checksums, unchanged
from tests.random_weights import cache_env
from tests.test_comparability import OFFICIAL_PROVENANCE

PREFIXED = [w for w in registry.WEIGHTS.values() if w.sha256_prefix]


class Payload:
    """Unpickling it runs `os.mkdir(marker)`: harmless, and visible."""

    def __init__(self, marker: Path) -> None:
        self.marker = marker

    def __reduce__(self):
        return os.mkdir, (str(self.marker),)


@pytest.fixture
def caches(tmp_path, monkeypatch) -> Path:
    """faceboard's, torch's and Hugging Face's caches under tmp_path, offline."""
    for key, value in cache_env(tmp_path / "cache").items():
        monkeypatch.setenv(key, value)
    return tmp_path / "cache"


def plant(path: Path, marker: Path, **tensors: torch.Tensor) -> Path:
    """A checkpoint at `path` whose payload is live: unpickled the unsafe way it creates `marker` (removed again)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    torch.save({**tensors, "payload": Payload(marker)}, path)
    torch.load(path, weights_only=False)
    assert marker.is_dir(), "the payload does not run: the test would prove nothing"
    marker.rmdir()
    return path


def refused(path: Path | str) -> str:
    return f"refused: {re.escape(str(path))} is not a tensors-only checkpoint"


@pytest.mark.parametrize("weight", PREFIXED, ids=lambda w: w.name)
def test_a_torch_hub_prefix_alone_only_prefix_checks_a_file(weight):
    """Any file whose sha256 starts with the 32-bit prefix matches it: that cannot count as verified."""
    trust = weight.trust(weight.sha256_prefix + "0" * 56)
    assert (trust.state, trust.verified) == ("prefix-checked", False)
    assert trust.why == (f"prefix-checked: only the 8-hex torch-hub prefix {weight.sha256_prefix} of its sha256 is "
                         "published; pin the full digest")
    assert weight.trust("f" * 64 if weight.sha256_prefix[0] != "f" else "0" * 64).state == "mismatch"


def test_only_the_full_pinned_sha256_verifies_and_no_digest_is_unpinned():
    clip, gfpgan = registry.get("clip_rn50"), registry.get("gfpgan_v1_4")
    assert clip.trust(clip.sha256).verified and clip.trust(clip.sha256).why == ""
    wrong = clip.trust(clip.sha256[:-1] + "0" if clip.sha256[-1] != "0" else clip.sha256[:-1] + "1")
    assert wrong.state == "mismatch" and clip.sha256 in wrong.why
    assert gfpgan.trust("0" * 64).state == "unpinned" and not gfpgan.trust("0" * 64).verified


@pytest.fixture
def probe(caches, monkeypatch):
    """A registry weight file that is present, its registry entry made with `pin(weight, digest)`."""
    path = caches / "probe" / "probe-0000.pth"
    path.parent.mkdir(parents=True)
    torch.save({"w": torch.ones(3)}, path)
    digest = sha256_file(path)

    def pin(**digests: str) -> registry.WeightFile:
        weight = registry.WeightFile("probe", path.name, "faceboard/probe", urls=("https://example.invalid/p",),
                                     **digests)
        monkeypatch.setitem(registry.WEIGHTS, "probe", weight)
        return weight

    return pin, digest


def _official_with_musiq(provenance: dict) -> dict:
    return {**OFFICIAL_PROVENANCE, "metrics": {**OFFICIAL_PROVENANCE["metrics"],
                                               "musiq": {"metric": "musiq", "options": {}, **provenance}}}


def test_a_prefix_checked_weight_makes_the_run_not_comparable(probe):
    pin, digest = probe
    spec = dataclasses.replace(table.get("musiq"), weights=("probe",), path_options={})
    pin(sha256_prefix=digest[:8])
    provenance = locate(spec, {}).provenance()
    assert provenance["weights_trust"] == {"probe-0000.pth": "prefix-checked"}
    assert provenance["weights_verified"] is False
    reasons = method_reasons(_official_with_musiq(provenance))
    assert reasons == [(f"musiq: weights not verified (probe-0000.pth: prefix-checked: only the 8-hex torch-hub "
                       f"prefix {digest[:8]} of its sha256 is published; pin the full digest)")]
    pin(sha256=digest)  # the full digest pinned: verified, comparable
    provenance = locate(spec, {}).provenance()
    assert provenance["weights_trust"] == {"probe-0000.pth": "verified"} and provenance["weights_verified"] is True
    assert method_reasons(_official_with_musiq(provenance)) == []


def test_weights_status_shows_prefix_checked_and_import_refuses_a_prefix_mismatch(probe, tmp_path, capsys):
    pin, digest = probe
    weight = pin(sha256_prefix=digest[:8])
    assert manage.status(weight).state == "prefix-checked" and not manage.status(weight).problem
    assert _weights(argparse.Namespace(action="status", target=None), None) == 0
    row = next(line for line in capsys.readouterr().out.splitlines() if line.startswith("probe "))
    assert row.split()[:3] == ["probe", "prefix-checked", "probe-0000.pth"] and digest in row
    before = checksums(weight.path.parent)
    other = "0" if digest[0] != "0" else "1"
    weight = pin(sha256_prefix=other + digest[1:8])
    assert manage.status(weight).state == "mismatch" and manage.status(weight).problem
    (tmp_path / "downloads").mkdir()
    (tmp_path / "downloads" / weight.file_name).write_bytes(b"not the published file")
    with pytest.raises(ValueError, match="does not match the published digest of probe"):
        manage.import_dir(tmp_path / "downloads")
    assert unchanged(before, weight.path.parent) == []  # the placed file was not replaced


def test_an_adaface_checkpoint_carrying_code_is_refused(caches, tmp_path):
    marker = tmp_path / "payload-ran"
    path = plant(registry.get("adaface_ir50_ms1mv2").path, marker, weight=torch.zeros(2))
    before = checksums(caches)
    with pytest.raises(UnsafeCheckpoint, match=refused(path) + r" \(.*GLOBAL posix\.mkdir"):
        AdaFaceIR50("cpu")
    assert not marker.exists() and unchanged(before, caches) == []


@pytest.mark.parametrize("loader", [load_inception, load_stats, load_tensors], ids=lambda f: f.__name__)
def test_faceboards_own_loaders_refuse_code(loader, tmp_path):
    marker = tmp_path / "payload-ran"
    path = plant(tmp_path / "pt_inception-2015-12-05-6726825d.pth", marker, weight=torch.zeros(2))
    with pytest.raises(UnsafeCheckpoint, match=refused(path)):
        loader(path)
    assert not marker.exists()


def test_a_restorer_checkpoint_carrying_code_or_truncated_is_refused(caches, tmp_path):
    marker = tmp_path / "payload-ran"
    path = plant(registry.get("gfpgan_v1_4").path, marker, weight=torch.zeros(2))
    with pytest.raises(UnsafeCheckpoint, match=refused(path)):
        load_checkpoint("gfpgan_v1_4", ("params_ema",))
    assert not marker.exists()
    path.write_bytes(path.read_bytes()[:200])  # truncated: refused just as clearly
    with pytest.raises(UnsafeCheckpoint, match=refused(path) + r" \(PytorchStreamReader failed"):
        load_checkpoint("gfpgan_v1_4")


def test_a_no_reference_pyiqa_weight_carrying_code_is_refused(caches, tmp_path):
    marker = tmp_path / "payload-ran"
    path = plant(registry.get("musiq_koniq").path, marker, weight=torch.zeros(2))
    before = checksums(caches)
    with pytest.raises(table.MetricUnavailable, match="musiq: failed to load: UnsafeCheckpoint: " + refused(path)):
        table.load("musiq")
    assert not marker.exists() and unchanged(before, caches) == []


@pytest.fixture(scope="module")
def alexnet_state() -> dict[str, torch.Tensor]:
    """A random torchvision AlexNet, fp16 (it loads into fp32): what alexnet-owt-7be5be79.pth holds, in half."""
    from torchvision.models import alexnet

    torch.manual_seed(0)
    return {k: v.half() for k, v in alexnet(weights=None).state_dict().items()}


@pytest.mark.parametrize("hostile", ["lpips_alex", "alexnet_imagenet"])
def test_an_lpips_weight_carrying_code_is_refused_on_the_full_reference_path(hostile, caches, tmp_path,
                                                                           alexnet_state):
    """pyiqa's LPIPS reads torchvision's AlexNet (through torch.hub) and then its own layers, both unpickling
    with `weights_only=False`: the paired track's scorer refuses either file, and records which one."""
    marker = tmp_path / "payload-ran"
    alexnet, layers = registry.get("alexnet_imagenet").path, registry.get("lpips_alex").path
    for path, state in ((alexnet, alexnet_state), (layers, {"lin0.model.1.weight": torch.zeros(1, 64, 1, 1)})):
        path.parent.mkdir(parents=True)
        torch.save(state, path)  # each harmless; the hostile one is replaced next
    path = plant(registry.get(hostile).path, marker, weight=torch.zeros(2))
    before = checksums(caches)
    scorer = PairedScorer(["psnr", "lpips"], {}, None, "cpu")
    assert list(scorer.full) == ["psnr"] and not marker.exists()
    shown = Path("$TORCH_HOME") / path.relative_to(registry.torch_home())
    assert re.match(r"lpips: failed to load: UnsafeCheckpoint: " + refused(shown), scorer.unavailable["lpips"])
    with pytest.raises(table.MetricUnavailable, match=refused(path)):
        table.load("lpips", modes=(table.FULL_REFERENCE,))
    assert not marker.exists() and unchanged(before, caches) == []


def test_each_track_takes_only_its_own_metric_modes(caches):
    with pytest.raises(KeyError, match="psnr is a full-reference metric, not no-reference or set"):
        table.load("psnr")
    with pytest.raises(KeyError, match="niqe is a no-reference metric, not full-reference"):
        table.load("niqe", modes=(table.FULL_REFERENCE,))
    assert table.names((table.FULL_REFERENCE,)) == ["psnr", "ssim", "lpips"]
    assert "psnr" not in table.names(table.WITHOUT_REFERENCE) and "fid" in table.names(table.WITHOUT_REFERENCE)
