"""Whether a leaderboard may stand beside the official one (faceboard.protocol), and if not, why.

Comparable needs every one of: the edition's official split (every LQ file matching the catalog's digests,
all of them present), the organisers' landmarks, not an offline stand-in; the official identity gate with
verified weights; the official thresholds and failure limit; exactly the official score terms with their
official scales; the `worst` failed-image policy; and every official metric computed with default options
and weights verified against a full published or faceboard-pinned sha256 (a torch-hub file-name prefix only
`prefix-checks` a file: registry.Trust).

The rules come from params.yaml and concern the whole run; the rest from each method's scores
(its `provenance.json`). A run is comparable only if every method is.
"""

from __future__ import annotations

from collections.abc import Mapping

from faceboard import protocol as protocols
from faceboard.config import Params
from faceboard.metrics.table import METRICS
from faceboard.protocol import NTIRE2025, Protocol


def method_reasons(provenance: Mapping, protocol: Protocol | None = None) -> list[str]:
    """Why one method's scores (a score stage's provenance) are not comparable with `protocol` (default: the
    edition the scores were made for); [] if they are."""
    dataset = provenance.get("dataset") or {}
    protocol = protocol or protocols.get(dataset.get("protocol", NTIRE2025.name))
    reasons = []
    stand_in = provenance.get("dataset_fallback")
    if stand_in:
        reasons.append(f"dataset {stand_in['dataset']} stood in for {stand_in['instead_of']} ({stand_in['reason']})")
    if dataset.get("protocol", protocol.name) != protocol.name:
        reasons.append(f"scored for protocol {dataset['protocol']}, not {protocol.name}")
    elif not dataset.get("official_split"):
        why = dataset.get("not_official_because") or "the scored LQ set was not recorded"
        reasons.append(f"not an official {protocol.name} split: {why}")
    elif not dataset.get("official_landmarks"):
        source = (dataset.get("landmarks") or {}).get("source", "none")
        reasons.append(f"landmarks are not the organisers' CSV of {dataset['official_split']} (source: {source})")
    gate = provenance.get("id_backbone")
    if not gate:
        reasons.append("identity gate not run")
    elif gate.get("backbone") != protocol.backbone or not gate.get("official"):
        reasons.append(f"identity gate {gate.get('backbone')} is not the official {protocol.backbone}")
    else:
        reasons += _weights(f"identity gate {gate.get('backbone')}", gate)
    metrics, unavailable = provenance.get("metrics", {}), provenance.get("unavailable_metrics", {})
    for name in protocol.terms:
        if name not in metrics:
            reasons.append(f"{name}: not computed ({unavailable.get(name, 'not requested')})")
            continue
        reasons += _weights(name, metrics[name])
        if name in METRICS and metrics[name].get("options", {}) != METRICS[name].options:
            reasons.append(f"{name}: options {metrics[name].get('options')} differ from the official defaults")
    return reasons


def rule_reasons(params: Params, backbone: str | None, protocol: Protocol = NTIRE2025) -> list[str]:
    """Why the rules a run applies (params.yaml, resolved against its protocol) are not `protocol`'s; [] if
    they are."""
    reasons = []
    if params.protocol != protocol.name:
        reasons.append(f"the run follows protocol {params.protocol}, not {protocol.name}")
    if backbone == protocol.backbone:
        thresholds = params.thresholds(backbone)
        if thresholds != protocol.thresholds:
            reasons.append(f"identity thresholds {thresholds} are not the official {protocol.thresholds}")
    limit = params.failure_rule
    if limit != (protocol.max_failures, protocol.failures_per):
        reasons.append(f"failure limit {limit[0]} of {limit[1]} is not the official "
                       f"{protocol.max_failures} of {protocol.failures_per}")
    terms = params.score_terms
    for name, term in protocol.terms.items():
        if name not in terms:
            reasons.append(f"score term {name} is left out")
        elif terms[name] != term:
            reasons.append(f"score term {name} {terms[name].model_dump(exclude_none=True)} is not the official "
                           f"{term.model_dump(exclude_none=True)}")
    if extra := sorted(set(terms) - set(protocol.terms)):
        reasons.append(f"score terms {extra} are not official")
    if params.score.failed_images != protocol.failed_images:
        reasons.append(f"failed images are handled by `{params.score.failed_images}`, not the official "
                       f"`{protocol.failed_images}` (withholding bad images could pay)")
    return reasons


def judge(provenance: Mapping[str, Mapping], params: Params, backbone: str | None,
          protocol: Protocol = NTIRE2025) -> dict:
    """All reasons, grouped for people: `shared` (the rules, and what every method has in common) once,
    then per method only its own; `by_method` has each method's full list."""
    rules = rule_reasons(params, backbone, protocol)
    own = {method: method_reasons(p, protocol) for method, p in provenance.items()}
    common = [r for r in next(iter(own.values()), []) if all(r in reasons for reasons in own.values())]
    return {
        "comparable": not rules and not any(own.values()),
        "shared": rules + common,
        "per_method": {m: [r for r in reasons if r not in common] for m, reasons in own.items()},
        "by_method": {m: rules + reasons for m, reasons in own.items()},
    }


def _weights(label: str, provenance: Mapping) -> list[str]:
    if provenance.get("weights_verified") is True:
        return []
    details = provenance.get("weights_unverified") or {}
    why = "; ".join(f"{file}: {reason}" for file, reason in details.items()) or "no verified digest"
    return [f"{label}: weights not verified ({why})"]
