"""Gate, per-subset/overall means, validity and ranking of the leaderboard table."""

import math

import pandas as pd
import pytest

from faceboard.config import ScoreTerm
from faceboard.scoring.leaderboard import Gate, apply_gate, summarise

TERMS = {"niqe": ScoreTerm(headroom=10), "musiq": ScoreTerm(scale=0.01)}
GATE = Gate("dlib_resnet", {"A": 0.5, "B": 0.3}, max_failures=1)


def _frame(method, sims, niqe, subsets=("A", "A", "B", "B"), status=None):
    n = len(sims)
    return pd.DataFrame({
        "method": [method] * n, "subset": list(subsets), "image": [f"i{k}" for k in range(n)],
        "status": status or ["ok"] * n, "error": [""] * n, "id_sim": sims, "niqe": niqe,
    })


def test_gate_uses_each_subsets_threshold_and_fails_nan():
    gated = apply_gate(_frame("m", [0.5, 0.49, 0.3, float("nan")], [5.0] * 4), GATE)
    assert gated["id_pass"].tolist() == [True, False, True, False]
    assert gated["id_threshold"].tolist() == [0.5, 0.5, 0.3, 0.3]


def test_unknown_subset_is_a_clear_error():
    with pytest.raises(KeyError, match="no ID threshold for subset"):
        apply_gate(_frame("m", [0.9], [5.0], subsets=("C",)), GATE)


def test_summary_rows_means_score_validity_and_rank():
    per_image = pd.concat([
        _frame("good", [0.9, 0.9, 0.9, 0.9], [4.0, 6.0, 2.0, 4.0]),
        _frame("better_but_invalid", [0.1, 0.1, 0.9, 0.9], [1.0, 1.0, 1.0, 1.0]),
        _frame("worse", [0.9, 0.9, 0.9, 0.9], [8.0, 8.0, 8.0, 8.0]),
    ])
    table = summarise(apply_gate(per_image, GATE), ["niqe"], GATE, TERMS)
    row = table.set_index(["method", "subset"])
    assert row.loc[("good", "A"), "niqe"] == 5.0
    assert row.loc[("good", "all"), "niqe"] == 4.0
    assert row.loc[("good", "all"), "score"] == pytest.approx(0.6)
    assert row.loc[("good", "all"), "score_terms"] == "niqe"
    assert row.loc[("better_but_invalid", "all"), "id_failures"] == 2
    assert not row.loc[("better_but_invalid", "all"), "valid"]
    assert row.loc[("good", "all"), "rank"] == 1 and row.loc[("worse", "all"), "rank"] == 2
    assert pd.isna(row.loc[("better_but_invalid", "all"), "rank"])
    assert not row["comparable_to_official"].any()
    assert len(table) == 9


def test_failed_image_counts_as_id_failure_and_is_excluded_from_means():
    frame = _frame("m", [0.9, float("nan"), 0.9, 0.9], [4.0, float("nan"), 4.0, 4.0],
                   status=["ok", "failed", "ok", "ok"])
    table = summarise(apply_gate(frame, GATE), ["niqe"], GATE, TERMS)
    overall = table[table["subset"] == "all"].iloc[0]
    assert overall["n_failed"] == 1 and overall["id_failures"] == 1 and overall["niqe"] == 4.0


def test_no_gate_leaves_validity_and_rank_empty():
    gate = Gate(None, {}, 10)
    table = summarise(apply_gate(_frame("m", [math.nan] * 4, [4.0] * 4), gate), ["niqe"], gate, TERMS)
    assert (table["id_backbone"] == "not run").all()
    assert table["valid"].isna().all() and table["rank"].isna().all()


def test_flat_submission_has_a_single_all_row():
    gate = Gate(None, {}, 10)
    frame = _frame("m", [math.nan] * 2, [4.0, 6.0], subsets=("all", "all"))
    table = summarise(apply_gate(frame, gate), ["niqe"], gate, TERMS)
    assert table["subset"].tolist() == ["all"] and table["niqe"].iloc[0] == 5.0


def test_ties_share_a_rank():
    per_image = pd.concat([_frame("a", [0.9] * 4, [4.0] * 4), _frame("b", [0.9] * 4, [4.0] * 4),
                           _frame("c", [0.9] * 4, [8.0] * 4)])
    table = summarise(apply_gate(per_image, GATE), ["niqe"], GATE, TERMS)
    ranks = table[table["subset"] == "all"].set_index("method")["rank"]
    assert ranks.to_dict() == {"a": 1, "b": 1, "c": 3}
