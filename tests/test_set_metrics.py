"""Set metrics (FID-like) through the pipeline: per-image features, one value per method, `all` row only."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from faceboard.catalog import BoardFiles, ScoreFiles
from faceboard.config import load_params
from faceboard.imageio import read_rgb, write_png_atomic
from faceboard.metrics.table import SET, MetricSpec
from faceboard.scoring.per_image import FEATURES, LQ_FEATURES, Item, Scorer
from tasks.leaderboard import build_leaderboard
from tasks.report import render_report
from tasks.score import write_scores
from tests import boards
from tests.conftest import ROOT, SAMPLE


class CountingSet:
    """A set metric: feature = the image's mean; value = how many images it saw. Black images raise."""

    spec = MetricSpec("counted", True, "tests.test_set_metrics:CountingSet", mode=SET)

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
    return [Item("CelebA", p.stem, p) for p in paths] + [Item("CelebA", "black", black, paths[0]),
                                                          Item("CelebA", "gone", None, paths[1], error="no output")]


def test_features_ride_on_rows_and_a_failing_image_is_isolated(scorer, items):
    rows = scorer.score("m", items, batch_size=4)
    assert [FEATURES in r for r in rows] == [True, True, False, False]
    black = rows[2]
    assert black["status"] == "ok" and "counted: ValueError: black image" in black["error"]
    assert scorer.per_image_metrics == []
    # the two images without output features get their LQ input's features as stand-ins
    assert [LQ_FEATURES in r for r in rows] == [False, False, True, True]
    assert scorer.set_values(rows) == {"counted": {
        "value": 2.0, "images": 2, "error": "", "worst": {"value": 4.0, "images": 4, "error": "", "lq_stand_ins": 2}}}


def test_write_scores_keeps_features_out_of_the_table(scorer, items, tmp_path):
    rows = scorer.score("m", items, batch_size=1)
    out = ScoreFiles(tmp_path / "out")
    frame = write_scores(out, rows, scorer)
    assert "counted" not in frame and FEATURES not in frame and LQ_FEATURES not in frame
    assert FEATURES not in pd.read_parquet(out.per_image)
    assert json.loads(out.set_metrics.read_text())["counted"]["value"] == 2.0
    provenance = json.loads(out.provenance.read_text())
    assert "identity gate not run" in provenance["not_comparable_to_official"]


def test_a_set_metric_that_cannot_be_computed_is_reported_not_raised(scorer, items, tmp_path):
    rows = scorer.score("m", items[:2] * 3, batch_size=8)
    out = ScoreFiles(tmp_path)
    write_scores(out, rows, scorer)
    entry = json.loads(out.set_metrics.read_text())["counted"]
    assert entry == {"value": None, "images": 6, "error": "ValueError: too many",
                     "worst": {"value": None, "images": 6, "error": "ValueError: too many", "lq_stand_ins": 0}}


def test_leaderboard_puts_set_metrics_in_the_all_row_only(tmp_path):
    params = load_params(ROOT / "params.yaml")
    scores = {}
    for method, fid in (("a", 40.0), ("b", 80.0)):
        frame = pd.DataFrame({"method": method, "subset": ["CelebA", "LFW-Test"], "image": ["x", "y"],
                              "status": "ok", "error": "", "id_sim": 0.99, "niqe": 5.0})
        record = boards.provenance(2, metrics=("niqe",))
        record["metrics"]["fid"] = {"backend": "pytorch_fid", "pytorch_fid": "0.3.0",
                                    "weights": {"pt_inception.pth": "ab"}, "weights_verified": False,
                                    "weights_unverified": {"pt_inception.pth": "no digest"}, "options": {}}
        entry = {"value": fid, "images": 2, "error": ""}
        scores[method] = boards.write(ScoreFiles(tmp_path / method), frame, record,
                                      {"fid": {**entry, "worst": {**entry, "lq_stand_ins": 0}}})
    board = BoardFiles(tmp_path / "board")
    table = build_leaderboard(params, scores, board).set_index(["method", "subset"])
    assert table.loc[("a", "all"), "fid"] == 40.0 and table.loc[("b", "all"), "fid"] == 80.0
    assert table.loc[("a", "CelebA"), "fid"] != table.loc[("a", "CelebA"), "fid"]  # NaN: no per-subset FID
    assert table.loc[("a", "all"), "score"] == pytest.approx(0.5 + 0.6)
    assert table.loc[("a", "all"), "rank"] == 1
    assert not table["comparable_to_official"].any()
    assert "pt_inception.pth: no digest" in table.loc[("a", "all"), "not_comparable_because"]
    run = json.loads(board.run_info.read_text())
    assert "identity gate dlib_resnet is not the official adaface_ir50" in run["not_comparable_to_official"]["shared"]
    html = render_report(board, tmp_path / "report.html").read_text()
    assert '<td class="l">fid</td><td class="l">pytorch_fid 0.3.0</td>' in html and "fid: weights not verified" in html
