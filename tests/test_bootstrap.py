"""The bootstrap's confidence on scores and ranks (faceboard/scoring/bootstrap.py): coverage, determinism,
pairing, stratification, p_valid, FID held fixed, and the files the builder writes."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from faceboard.catalog import BoardFiles, ScoreFiles
from faceboard.config import BootstrapConfig, Params, load_params
from faceboard.protocol import ScoreTerm
from faceboard.report import page
from faceboard.scoring import bootstrap, build
from faceboard.scoring.charge import charge_failed
from faceboard.scoring.leaderboard import Gate, apply_gate, summarise
from tests import boards
from tests.conftest import ROOT

TERMS = {"niqe": ScoreTerm(headroom=10), "musiq": ScoreTerm(scale=0.01), "fid": ScoreTerm(headroom=100)}
NTIRE = {"CelebA": 100, "CelebChild-Test": 50, "LFW-Test": 100, "WebPhoto-Test": 100, "Wider-Test": 100}
GATE = Gate("dlib_resnet", dict.fromkeys(NTIRE, 0.5), limit=10)
CONFIG = BootstrapConfig()


def _frame(method: str, niqe, sizes=NTIRE, failures: int = 0, **columns) -> pd.DataFrame:
    """One method's per-image rows over `sizes` ({subset: images}); the first `failures` images fail the gate."""
    subsets = [s for s, n in sizes.items() for _ in range(n)]
    n = len(subsets)
    return pd.DataFrame({"method": method, "subset": subsets, "image": [f"i{k:03d}" for k in range(n)],
                         "status": "ok", "error": "", "id_sim": [0.1] * failures + [0.99] * (n - failures),
                         "niqe": np.broadcast_to(np.asarray(niqe, float), (n,)), **columns})


def _confidence(*frames, gate=GATE, set_metrics=None, seed=0, config=CONFIG, metrics=("niqe",)):
    charged = charge_failed(apply_gate(pd.concat(frames, ignore_index=True), gate), list(metrics), "worst")
    metrics = [*metrics, *({m for values in (set_metrics or {}).values() for m in values})]
    table = summarise(charged, metrics, gate, TERMS, set_metrics)
    return bootstrap.confidence(charged, table, metrics, TERMS, config, seed)


def _all(table: pd.DataFrame) -> pd.DataFrame:
    return table[table["subset"] == "all"].set_index("method")


def _p(pairwise: pd.DataFrame, a: str, b: str) -> float:
    return float(pairwise.set_index(["method_a", "method_b"]).loc[(a, b), "p_a_beats_b"])


def test_95_percent_interval_covers_the_true_mean_about_95_percent_of_the_time():
    """200 seeded trials of 100 images in two subsets of known means (60 at N(5, 1), 40 at N(7, 2): the
    overall mean of the design is 5.8). The percentile interval slightly under-covers at n = 100 (about
    0.94); with 200 trials the binomial standard error is about 0.016, so 0.90-0.99 leaves some 2.5
    standard errors each side (the seeds make the test deterministic: the band is for other seeds)."""
    sizes, true_mean = {"CelebA": 60, "LFW-Test": 40}, 5.8
    covered = {"niqe": 0, "score": 0}
    for trial in range(200):
        rng = np.random.default_rng(1000 + trial)
        niqe = np.r_[rng.normal(5, 1, 60), rng.normal(7, 2, 40)]
        row = _all(_confidence(_frame("m", niqe, sizes), seed=trial)[0]).loc["m"]
        covered["niqe"] += row["niqe_ci_low"] <= true_mean <= row["niqe_ci_high"]
        covered["score"] += row["score_ci_low"] <= (10 - true_mean) / 10 <= row["score_ci_high"]
        assert row["score_ci_low"] <= row["score"] <= row["score_ci_high"]
    assert 0.90 <= covered["niqe"] / 200 <= 0.99, covered
    assert covered["score"] == covered["niqe"]  # the NIQE term is linear below its headroom


def test_same_seed_same_output_other_seed_other_intervals():
    rng = np.random.default_rng(3)
    frames = [_frame(m, rng.normal(5 + k * 0.1, 1, 450)) for k, m in enumerate("abc")]
    first, again, other = _confidence(*frames, seed=7), _confidence(*frames, seed=7), _confidence(*frames, seed=8)
    pd.testing.assert_frame_equal(first[0], again[0])
    pd.testing.assert_frame_equal(first[1], again[1])
    assert not np.array_equal(first[0]["score_ci_low"], other[0]["score_ci_low"])
    assert not first[1]["p_a_beats_b"].equals(other[1]["p_a_beats_b"])


def test_two_identical_methods_tie_in_every_resample_and_are_not_separable():
    niqe = np.random.default_rng(4).normal(5, 1, 450)
    table, pairwise = _confidence(_frame("a", niqe), _frame("b", niqe))
    assert _p(pairwise, "a", "b") == 0.5 and _p(pairwise, "b", "a") == 0.5
    overall = _all(table)
    assert overall["rank"].tolist() == [1, 1]
    assert overall.loc["a", "separable_from_next"] == False
    assert pd.isna(overall.loc["b", "separable_from_next"])  # the last ranked one


def test_a_clearly_better_method_is_separable_and_invalid_ones_stay_out():
    rng = np.random.default_rng(5)
    table, pairwise = _confidence(_frame("better", rng.normal(4, 1, 450)), _frame("worse", rng.normal(6, 1, 450)),
                                  _frame("invalid", rng.normal(3, 1, 450), failures=11))
    assert _p(pairwise, "better", "worse") == 1.0 and _p(pairwise, "worse", "better") == 0.0
    assert len(pairwise) == 2 and "invalid" not in set(pairwise["method_a"]) | set(pairwise["method_b"])
    overall = _all(table)
    assert overall.loc["better", "separable_from_next"] == True
    assert pd.isna(overall.loc["worse", "separable_from_next"]) and pd.isna(overall.loc["invalid", "separable_from_next"])
    assert table[table["subset"] != "all"]["separable_from_next"].isna().all()


def test_each_resample_draws_every_subset_at_its_own_size():
    sizes = list(NTIRE.values())
    counts = bootstrap.resample_counts(sizes, 1000, np.random.default_rng(0))
    for n, matrix in zip(sizes, counts, strict=True):
        assert matrix.shape == (1000, n) and (matrix.sum(axis=1) == n).all()
        assert 0.6 < (matrix > 0).mean() < 0.66  # with replacement: about 1 - 1/e of the images drawn
    # through the leaderboard: a subset whose values are all equal keeps them in every resample
    niqe = np.r_[np.full(100, 5.0), np.random.default_rng(6).normal(5, 1, 350)]
    rows = _confidence(_frame("m", niqe))[0].set_index("subset")
    assert rows.loc["CelebA", "niqe_ci_low"] == rows.loc["CelebA", "niqe_ci_high"] == 5.0
    assert rows.loc["LFW-Test", "niqe_ci_low"] < rows.loc["LFW-Test", "niqe_ci_high"]


def test_p_valid_shows_a_method_at_the_limit_on_the_edge():
    """450 images, limit 10: a resample's failures are Binomial(450, k / 450) for a method with k failures."""
    niqe = np.full(450, 5.0)
    frames = [_frame(f"k{k}", niqe, failures=k) for k in (0, 10, 11, 30)]
    overall = _all(_confidence(*frames)[0])
    assert overall.loc["k0", "p_valid"] == 1.0 and overall.loc["k30", "p_valid"] == 0.0
    at_limit = stats.binom.cdf(10, 450, 10 / 450)  # 0.58
    assert overall.loc["k10", "valid"] and overall.loc["k10", "p_valid"] == pytest.approx(at_limit, abs=0.05)
    assert not overall.loc["k11", "valid"] and overall.loc["k11", "p_valid"] == pytest.approx(
        stats.binom.cdf(10, 450, 11 / 450), abs=0.05)
    no_gate = _confidence(*frames, gate=Gate(None, {}, 10))[0]
    assert no_gate["p_valid"].isna().all()


def test_fid_is_held_fixed_and_has_no_interval():
    rng = np.random.default_rng(8)
    table, _ = _confidence(_frame("flat", 5.0), _frame("noisy", rng.normal(5, 1, 450)),
                           set_metrics={"flat": {"fid": 40.0}, "noisy": {"fid": 60.0}})
    overall = _all(table)
    assert overall["fid_ci_low"].isna().all() and overall["fid_ci_high"].isna().all()
    assert overall.loc["flat", "score_terms"] == "niqe,fid"
    # no per-image variation: the score does not move, FID included
    flat = overall.loc["flat"]
    assert flat["score_ci_low"] == pytest.approx(flat["score"]) and flat["score_ci_high"] == pytest.approx(flat["score"])
    # the score interval is NIQE's, mapped through its term, plus FID's fixed term
    noisy = overall.loc["noisy"]
    assert noisy["score_ci_low"] == pytest.approx((10 - noisy["niqe_ci_high"]) / 10 + (100 - 60) / 100)
    assert noisy["score_ci_high"] == pytest.approx((10 - noisy["niqe_ci_low"]) / 10 + (100 - 60) / 100)


def test_the_builder_writes_intervals_pairwise_and_the_record(tmp_path):
    raw = load_params(ROOT / "params.yaml").model_dump()
    params = Params.model_validate({**raw, "bootstrap": {"resamples": 500, "confidence": 0.9}})
    rng = np.random.default_rng(9)
    base = rng.normal(6, 1, 450)
    scores = {}
    for method, niqe in (("best", rng.normal(4, 1, 450)), ("twin_a", base), ("twin_b", base)):
        frame = _frame(method, niqe)
        scores[method] = boards.write(ScoreFiles(tmp_path / method), frame, boards.provenance(450))
    board = build.build(params, scores)
    out = BoardFiles(tmp_path / "board")
    build.write(board, out)

    table = pd.read_parquet(out.leaderboard)
    for column in ("niqe_ci_low", "niqe_ci_high", "score_ci_low", "score_ci_high", "p_valid", "separable_from_next"):
        assert column in table
    overall = _all(table)
    assert overall.loc["best", "separable_from_next"] == True
    assert overall.loc["twin_a", "separable_from_next"] == False
    pairwise = pd.read_parquet(out.pairwise)
    assert list(pairwise.columns) == ["method_a", "method_b", "p_a_beats_b"] and len(pairwise) == 6
    assert _p(pairwise, "twin_a", "twin_b") == 0.5 and _p(pairwise, "best", "twin_a") == 1.0
    record = json.loads(out.run_info.read_text())["bootstrap"]
    assert (record["resamples"], record["confidence"], record["seed"]) == (500, 0.9, params.seed)
    assert "fid" in record["set_metrics"] and "NaN" in record["set_metrics"]

    html = page.write(out, tmp_path / "report.html").read_text()
    assert "P(valid)" in html and "the score's 90% bootstrap interval" in html
    assert html.count('title="does not beat the next-ranked method in 90% of the resamples"') == 1  # twin_a's mark
