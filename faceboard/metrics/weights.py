"""The weight files a metric backend loads: located (provisioned offline when possible), hashed, their trust stated."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from faceboard.files import sha256_file
from faceboard.metrics.table import MetricSpec, MetricUnavailable
from faceboard.weights.provision import ensure
from faceboard.weights.registry import get as get_weight
from faceboard.weights.registry import hf_snapshot


@dataclass(frozen=True)
class LocalWeights:
    paths: dict[str, Path]  # registry name -> local file
    digests: dict[str, str]  # file name -> sha256
    snapshots: dict[str, str]  # Hugging Face repo -> cached revision
    trust: dict[str, str]  # file name -> trust state (faceboard.weights.registry.Trust)
    unverified: dict[str, str]  # file name or repo -> why it is not verified

    def provenance(self) -> dict:
        return {"weights": self.digests, "hf_snapshots": self.snapshots, "weights_trust": self.trust,
                "weights_verified": not self.unverified, "weights_unverified": self.unverified}


def locate(spec: MetricSpec, options: Mapping[str, object]) -> LocalWeights:
    """Every file `spec` needs with `options`; raises MetricUnavailable naming the URL and the target path."""
    paths, digests, snapshots, trusts, unverified = {}, {}, {}, {}, {}
    for name in spec.needed_weights(options):
        weight, path = get_weight(name), ensure(name)
        if path is None:
            raise MetricUnavailable(f"{spec.name}: missing {weight.file_name} ({weight.fix})")
        paths[name], digests[path.name] = path, sha256_file(path)
        trust = weight.trust(digests[path.name])
        trusts[path.name] = trust.state
        if not trust.verified:
            unverified[path.name] = trust.why
    for repo in spec.hf_models:
        revision, folder = hf_snapshot(repo)
        if revision is None:
            raise MetricUnavailable(f"{spec.name}: {repo} is not in the Hugging Face cache ({folder})")
        snapshots[repo] = revision
        unverified[repo] = "no pinned Hugging Face revision"
    return LocalWeights(paths, digests, snapshots, trusts, unverified)
