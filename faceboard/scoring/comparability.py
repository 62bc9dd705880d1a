"""Whether scores may stand beside the official NTIRE 2025 ones, and if not, why.

Comparable needs all of: the dataset asked for (not an offline stand-in); the official identity gate
(AdaFace IR-50); every official score term
computed, with its default options; and every weight file of the gate and of those terms verified
against a published or faceboard-pinned sha256 (a file with no known digest is not verified).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from faceboard.metrics.table import METRICS

OFFICIAL_TERMS = tuple(name for name, spec in METRICS.items() if spec.official)


def not_comparable(provenance: Mapping, terms: Iterable[str] = OFFICIAL_TERMS) -> list[str]:
    """Why scores with this provenance (a score stage's provenance.json) are not comparable; [] if they are.

    `terms` are the score terms in use (params.yaml `score.terms`).
    """
    terms = list(terms)
    reasons = []
    stand_in = provenance.get("dataset_fallback")
    if stand_in:
        reasons.append(f"dataset {stand_in['dataset']} stood in for {stand_in['instead_of']} ({stand_in['reason']})")
    if set(terms) != set(OFFICIAL_TERMS):
        reasons.append(f"score terms {sorted(terms)} are not the official {sorted(OFFICIAL_TERMS)}")
    gate = provenance.get("id_backbone")
    if not gate:
        reasons.append("identity gate not run")
    elif not gate.get("official"):
        reasons.append(f"identity gate {gate.get('backbone')} is not the official one")
    else:
        reasons += _weights(f"identity gate {gate.get('backbone')}", gate)
    metrics, unavailable = provenance.get("metrics", {}), provenance.get("unavailable_metrics", {})
    for name in terms:
        if name not in metrics:
            reasons.append(f"{name}: not computed ({unavailable.get(name, 'not requested')})")
            continue
        reasons += _weights(name, metrics[name])
        if name in METRICS and metrics[name].get("options", {}) != METRICS[name].options:
            reasons.append(f"{name}: options {metrics[name].get('options')} differ from the official defaults")
    return reasons


def _weights(label: str, provenance: Mapping) -> list[str]:
    if provenance.get("weights_verified") is True:
        return []
    details = provenance.get("weights_unverified") or {}
    why = "; ".join(f"{file}: {reason}" for file, reason in details.items()) or "no verified digest"
    return [f"{label}: weights not verified ({why})"]
