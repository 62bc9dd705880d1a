"""Comparable to the official score only with the official gate, all six terms, default options, verified weights."""

from __future__ import annotations

import copy

import pytest

from faceboard.scoring.comparability import OFFICIAL_TERMS, not_comparable

VERIFIED = {"weights": {"f.pth": "ab" * 32}, "weights_verified": True, "weights_unverified": {}}
OFFICIAL = {
    "metrics": {name: {"metric": name, "options": {}, **VERIFIED} for name in OFFICIAL_TERMS},
    "unavailable_metrics": {},
    "id_backbone": {"backbone": "adaface_ir50", "official": True, **VERIFIED},
}


def test_official_terms_are_the_protocols_six():
    assert sorted(OFFICIAL_TERMS) == ["clipiqa", "fid", "maniqa", "musiq", "niqe", "qalign"]


def test_everything_official_and_verified_is_comparable():
    assert not_comparable(OFFICIAL) == []


def _with(changes: dict[tuple[str, ...], object]) -> dict:
    """OFFICIAL with each (key path -> value) set; value None deletes the key."""
    provenance = copy.deepcopy(OFFICIAL)
    for path, value in changes.items():
        node = provenance
        for key in path[:-1]:
            node = node[key]
        if value is None:
            del node[path[-1]]
        else:
            node[path[-1]] = value
    return provenance


@pytest.mark.parametrize(("changes", "expected"), [
    ({("id_backbone",): False}, "identity gate not run"),
    ({("id_backbone", "official"): False}, "identity gate adaface_ir50 is not the official one"),
    ({("id_backbone", "weights_verified"): None}, "identity gate adaface_ir50: weights not verified"),
    ({("metrics", "clipiqa", "weights_verified"): False}, "clipiqa: weights not verified"),
    ({("metrics", "musiq", "weights_verified"): False,
      ("metrics", "musiq", "weights_unverified"): {"m.pth": "sha256 12... does not match e95806b9"}},
     "musiq: weights not verified (m.pth: sha256 12... does not match e95806b9)"),
    ({("metrics", "qalign"): None}, "qalign: not computed (not requested)"),
    ({("metrics", "maniqa", "options"): {"test_sample": 1}}, "maniqa: options {'test_sample': 1} differ"),
    ({("dataset_fallback",): {"dataset": "ntire2025-val-sample", "instead_of": "ntire2025-test", "reason": "offline"}},
     "dataset ntire2025-val-sample stood in for ntire2025-test (offline)"),
])
def test_each_deviation_is_named(changes, expected):
    reasons = not_comparable(_with(changes))
    assert len(reasons) == 1 and reasons[0].startswith(expected), reasons


def test_unavailable_metric_reason_and_other_score_terms():
    provenance = _with({("metrics", "qalign"): None})
    provenance["unavailable_metrics"]["qalign"] = "qalign: needs icecream"
    assert not_comparable(provenance) == ["qalign: not computed (qalign: needs icecream)"]
    reasons = not_comparable(OFFICIAL, ["niqe", "musiq"])
    assert len(reasons) == 1 and "not the official" in reasons[0]
