"""Set metrics (FID-like) through the pipeline: per-image features, one value per method, `all` row only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faceboard.config import load_params
from faceboard.imageio import read_rgb, write_png_atomic
from faceboard.metrics.table import MetricSpec
from faceboard.scoring.per_image import FEATURES, Item, Scorer
from tasks.leaderboard import build_leaderboard
from tasks.report import render_report
from tasks.score import PER_IMAGE, PROVENANCE, SET_METRICS, load_set_metrics, write_scores
from tests.conftest import ROOT, SAMPLE


class CountingSet:
    """A set metric: feature = the image's mean; value = how many images it saw. Black images raise."""

    spec = MetricSpec("counted", True, "tests.test_set_metrics:CountingSet", set_metric=True)

    def features(self, batch):
        if (batch.amax(dim=(1, 2, 3)) == 0).any():
            raise ValueError("black image")
        return batch.mean(dim=(1, 2, 3)).double().numpy()[:, None]

    def compute(self, features: np.ndarray) -> float:
        if len(features) > 5:
            raise ValueError("too many")
        return float(len(features))

    def provenance(self) -> dict:
        return {"metric": "counted", "weights_verified": True, "options": {}}


@pytest.fixture()
def scorer(tmp_path):
    scorer = Scorer({}, None, "cpu", tmp_path)
    scorer.metrics["counted"] = CountingSet()
    return scorer


@pytest.fixture()
def items(tmp_path):
    paths = sorted((SAMPLE / "lq" / "CelebA").glob("*.png"))
    black = tmp_path / "black.png"
    write_png_atomic(black, np.zeros_like(read_rgb(paths[0])))
    return [Item("CelebA", p.stem, p) for p in paths] + [Item("CelebA", "black", black),
                                                          Item("CelebA", "gone", None, error="no output")]


def test_features_ride_on_rows_and_a_failing_image_is_isolated(scorer, items):
    rows = scorer.score("m", items, batch_size=4)
    assert [FEATURES in r for r in rows] == [True, True, False, False]
    black = rows[2]
    assert black["status"] == "ok" and "counted: ValueError: black image" in black["error"]
    assert scorer.per_image_metrics == []
    assert scorer.set_values(rows) == {"counted": {"value": 2.0, "images": 2, "error": ""}}


def test_write_scores_keeps_features_out_of_the_table(scorer, items, tmp_path):
    rows = scorer.score("m", items, batch_size=1)
    frame = write_scores(tmp_path / "out", rows, scorer)
    assert "counted" not in frame and FEATURES not in frame
    assert FEATURES not in pd.read_parquet(tmp_path / "out" / PER_IMAGE)
    assert load_set_metrics(tmp_path / "out") == {"counted": 2.0}
    provenance = json.loads((tmp_path / "out" / PROVENANCE).read_text())
    assert "identity gate not run" in provenance["not_comparable_to_official"]


def test_a_set_metric_that_cannot_be_computed_is_reported_not_raised(scorer, items, tmp_path):
    rows = scorer.score("m", items[:2] * 3, batch_size=8)
    write_scores(tmp_path, rows, scorer)
    entry = json.loads((tmp_path / SET_METRICS).read_text())["counted"]
    assert entry == {"value": None, "images": 6, "error": "ValueError: too many"}
    assert np.isnan(load_set_metrics(tmp_path)["counted"])


def test_leaderboard_puts_set_metrics_in_the_all_row_only(tmp_path):
    params = load_params(ROOT / "params.yaml")
    dirs = {}
    for method, fid in (("a", 40.0), ("b", 80.0)):
        folder = dirs[method] = tmp_path / method
        folder.mkdir()
        pd.DataFrame({"method": method, "subset": ["CelebA", "LFW-Test"], "image": ["x", "y"], "status": "ok",
                      "error": "", "id_sim": 0.99, "niqe": 5.0}).to_parquet(folder / PER_IMAGE)
        (folder / SET_METRICS).write_text(json.dumps({"fid": {"value": fid, "images": 2, "error": ""}}))
        (folder / PROVENANCE).write_text(json.dumps({
            "metrics": {"niqe": {"backend": "pyiqa", "pyiqa": "0.1.16", "weights": {}, "weights_verified": True,
                                 "options": {}},
                        "fid": {"backend": "pytorch_fid", "pytorch_fid": "0.3.0", "weights": {"pt_inception.pth": "ab"},
                                "weights_verified": False, "weights_unverified": {"pt_inception.pth": "no digest"},
                                "options": {}}},
            "unavailable_metrics": {}, "versions": {"faceboard": "0.1.0"},
            "id_backbone": {"backbone": "dlib_resnet", "official": False, "weights": {}}}))
    table = build_leaderboard(params, dirs, tmp_path / "board").set_index(["method", "subset"])
    assert table.loc[("a", "all"), "fid"] == 40.0 and table.loc[("b", "all"), "fid"] == 80.0
    assert table.loc[("a", "CelebA"), "fid"] != table.loc[("a", "CelebA"), "fid"]  # NaN: no per-subset FID
    assert table.loc[("a", "all"), "score"] == pytest.approx(0.5 + 0.6)
    assert table.loc[("a", "all"), "rank"] == 1
    assert not table["comparable_to_official"].any()
    assert "pt_inception.pth: no digest" in table.loc[("a", "all"), "not_comparable_because"]
    run = json.loads((tmp_path / "board" / "run.json").read_text())
    assert any("dlib_resnet is not the official" in r for r in run["not_comparable_to_official"]["a"])
    html = render_report(tmp_path / "board", tmp_path / "report.html").read_text()
    assert "fid (pytorch_fid 0.3.0)" in html and "a: fid: weights not verified" in html
