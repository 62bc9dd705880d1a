"""Gate, per-subset/overall means, validity and ranking of the leaderboard table."""

import math

import pandas as pd
import pytest

from faceboard.protocol import ScoreTerm
from faceboard.scoring.charge import charge_failed
from faceboard.scoring.leaderboard import Gate, apply_gate, summarise

TERMS = {"niqe": ScoreTerm(headroom=10), "musiq": ScoreTerm(scale=0.01)}
GATE = Gate("dlib_resnet", {"A": 0.5, "B": 0.3}, limit=1)


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


def test_failed_image_counts_as_id_failure_and_is_charged_in_the_means():
    frame = _frame("m", [0.9, float("nan"), 0.9, 0.9], [4.0, float("nan"), 4.0, 6.0],
                   status=["ok", "failed", "ok", "ok"])
    frame["lq_niqe"] = [4.5, 5.0, 4.5, 5.5]
    gated = apply_gate(frame, GATE)
    worst = summarise(charge_failed(gated, ["niqe"], "worst"), ["niqe"], GATE, TERMS).set_index("subset")
    assert worst.loc["all", "n_failed"] == 1 and worst.loc["all", "id_failures"] == 1
    assert worst.loc["A", "niqe"] == 5.0  # charged 6.0, the board's worst NIQE (subset B)
    dropped = summarise(charge_failed(gated, ["niqe"], "drop"), ["niqe"], GATE, TERMS).set_index("subset")
    assert dropped.loc["A", "niqe"] == 4.0 and dropped.loc["all", "niqe"] == pytest.approx(14 / 3)


@pytest.mark.parametrize(("lq", "other", "elsewhere", "expected"), [
    (5.0, 3.0, 1.0, 5.0),           # the image's LQ input is the worst face on the board
    (5.0, 9.0, 1.0, 9.0),           # another method did worse on that image
    (2.0, 3.0, 7.0, 7.0),           # the method's own face in another subset is worse
    (math.nan, math.nan, 7.0, 7.0),
])
def test_worst_charge_is_the_worst_value_on_the_board(lq, other, elsewhere, expected):
    mine = _frame("m", [0.9] * 4, [math.nan, 1.0, elsewhere, 1.0], status=["failed", "ok", "ok", "ok"])
    mine["lq_niqe"] = [lq, 1.0, 1.0, 1.0]
    theirs = _frame("o", [0.9] * 4, [other, 1.0, 1.0, 1.0])
    charged = charge_failed(pd.concat([mine, theirs], ignore_index=True), ["niqe"], "worst")
    assert charged.loc[0, "niqe"] == expected and charged.loc[0, "charged"] == "niqe"
    assert (charged.loc[1:3, "charged"] == "").all()


def test_higher_is_better_metrics_are_charged_their_minimum():
    frame = _frame("m", [0.9] * 4, [4.0] * 4, status=["failed", "ok", "ok", "ok"])
    frame["musiq"] = [float("nan"), 60.0, 50.0, 70.0]
    frame["lq_musiq"] = [55.0, 45.0, 58.0, 52.0]
    assert charge_failed(frame, ["musiq"], "worst").loc[0, "musiq"] == 45.0


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
