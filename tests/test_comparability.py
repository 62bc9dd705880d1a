"""Comparable with the official score only when every condition of the protocol holds: each flipped alone."""

from __future__ import annotations

import copy

import pytest
import yaml

from faceboard.config import Params
from faceboard.protocol import NTIRE2025
from faceboard.scoring.comparability import judge, method_reasons, rule_reasons
from tests.boards import VERIFIED
from tests.conftest import ROOT

OFFICIAL_PROVENANCE = {
    "dataset": {"name": "ntire2025-test", "protocol": "ntire2025", "images": 450, "official_split": "ntire2025-test",
                "not_official_because": "", "landmarks": {"source": "csv", "sha256": "f" * 64},
                "official_landmarks": True},
    "metrics": {name: {"metric": name, "options": {}, **VERIFIED} for name in NTIRE2025.terms},
    "unavailable_metrics": {},
    "id_backbone": {"backbone": "adaface_ir50", "official": True, **VERIFIED},
}


def _raw_params() -> dict:
    """params.yaml with the official gate and rules (as an organiser would set them)."""
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["identity"] = {"backbone": "adaface_ir50"}  # limit, thresholds and terms: the protocol's
    raw["score"] = {"failed_images": "worst",
                    "terms": {name: term.model_dump(exclude_none=True) for name, term in NTIRE2025.terms.items()}}
    return raw


def _set(tree: dict, path: tuple[str, ...], value: object) -> dict:
    """A copy of `tree` with the key at `path` set to `value` (None deletes it)."""
    tree = copy.deepcopy(tree)
    node = tree
    for key in path[:-1]:
        node = node[key]
    if value is None:
        del node[path[-1]]
    else:
        node[path[-1]] = value
    return tree


def test_the_protocol_has_the_six_terms_and_the_2025_rules():
    assert sorted(NTIRE2025.terms) == ["clipiqa", "fid", "maniqa", "musiq", "niqe", "qalign"]
    assert NTIRE2025.images == 450 and (NTIRE2025.max_failures, NTIRE2025.failures_per) == (10, 450)


def test_everything_official_is_comparable():
    params = Params.model_validate(_raw_params())
    assert rule_reasons(params, "adaface_ir50") == [] and method_reasons(OFFICIAL_PROVENANCE) == []
    assert judge({"a": OFFICIAL_PROVENANCE, "b": OFFICIAL_PROVENANCE}, params, "adaface_ir50")["comparable"]


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("dataset", "official_split"), None, "not an official ntire2025 split"),
    (("dataset", "official_landmarks"), False, "landmarks are not the organisers' CSV of ntire2025-test"),
    (("dataset_fallback",), {"dataset": "ntire2025-val-sample", "instead_of": "ntire2025-test", "reason": "offline"},
     "dataset ntire2025-val-sample stood in for ntire2025-test (offline)"),
    (("id_backbone",), False, "identity gate not run"),
    (("id_backbone", "official"), False, "identity gate adaface_ir50 is not the official adaface_ir50"),
    (("id_backbone", "backbone"), "dlib_resnet", "identity gate dlib_resnet is not the official adaface_ir50"),
    (("id_backbone", "weights_verified"), None, "identity gate adaface_ir50: weights not verified"),
    (("metrics", "clipiqa", "weights_verified"), False, "clipiqa: weights not verified"),
    (("metrics", "qalign"), None, "qalign: not computed (not requested)"),
    (("metrics", "maniqa", "options"), {"test_sample": 1}, "maniqa: options {'test_sample': 1} differ"),
])
def test_each_deviation_of_the_scores_is_named(path, value, expected):
    reasons = method_reasons(_set(OFFICIAL_PROVENANCE, path, value))
    assert len(reasons) == 1 and reasons[0].startswith(expected), reasons


@pytest.mark.parametrize(("path", "value", "expected"), [
    (("datasets", "ntire2025-val-sample", "subsets", "Wider-Test", "id_threshold", "adaface_ir50"), 0.2,
     "identity thresholds"),
    (("protocol",), "ntire2026", "the run follows protocol ntire2026, not ntire2025"),
    (("identity", "max_failures"), 20, "failure limit 20 of 450 is not the official 10 of 450"),
    (("identity", "failures_per"), 10, "failure limit 10 of 10 is not the official 10 of 450"),
    (("score", "terms", "musiq"), {"scale": 0.02}, "score term musiq {'scale': 0.02} is not the official"),
    (("score", "terms", "niqe"), {"scale": -0.1}, "score term niqe {'scale': -0.1} is not the official"),
    (("score", "terms", "fid"), None, "score term fid is left out"),
    (("score", "terms", "piqe"), {"headroom": 100}, "score terms ['piqe'] are not official"),
    (("score", "failed_images"), "drop", "failed images are handled by `drop`"),
])
def test_each_deviation_of_the_rules_is_named(path, value, expected):
    params = Params.model_validate(_set(_raw_params(), path, value))
    reasons = rule_reasons(params, "adaface_ir50")
    assert reasons[0].startswith(expected), reasons
    assert len(reasons) == 1 or path == ("protocol",)  # following 2026 also brings its thresholds
    verdict = judge({"a": OFFICIAL_PROVENANCE}, params, "adaface_ir50")
    assert not verdict["comparable"] and verdict["by_method"]["a"] == reasons


def test_one_method_that_is_not_comparable_makes_the_run_not_comparable():
    params = Params.model_validate(_raw_params())
    other = _set(OFFICIAL_PROVENANCE, ("metrics", "qalign"), None)
    verdict = judge({"a": OFFICIAL_PROVENANCE, "b": other}, params, "adaface_ir50")
    assert not verdict["comparable"]
    assert verdict["per_method"] == {"a": [], "b": ["qalign: not computed (not requested)"]}


def test_reasons_every_method_shares_are_listed_once():
    params = Params.model_validate(_set(_raw_params(), ("score", "failed_images"), "drop"))
    a = _set(OFFICIAL_PROVENANCE, ("dataset", "official_landmarks"), False)
    b = _set(a, ("metrics", "musiq"), None)
    verdict = judge({"a": a, "b": b}, params, "adaface_ir50")
    assert [r.split(" ")[0] for r in verdict["shared"]] == ["failed", "landmarks"]
    assert verdict["per_method"] == {"a": [], "b": ["musiq: not computed (not requested)"]}
    assert len(verdict["by_method"]["b"]) == 3
