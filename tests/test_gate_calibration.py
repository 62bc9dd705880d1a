"""The offline gate's thresholds: the calibration rule, and params.yaml carrying the committed table's values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from faceboard.catalog import Catalog
from faceboard.config import load_params
from faceboard.identity.calibration import (
    Targets,
    calibrate,
    pair_similarities,
    person,
    threshold,
    thresholds,
)
from tests.conftest import ROOT

TABLE = Catalog(ROOT).gate_calibration("dlib_resnet")


def test_params_carry_the_committed_calibration():
    table = pd.read_csv(TABLE)
    assert load_params(ROOT / "params.yaml").thresholds("dlib_resnet") == thresholds(table)


def test_the_committed_calibration_met_its_targets_with_a_generative_restorer():
    table = pd.read_csv(TABLE)
    restorers = set(table["restorer"]) - {"all"}
    assert {"realesrgan-x4plus", "team15_NAFNet", "opencv_nlm_sharpen"} <= restorers
    genuine = table[table["pairs"] == "genuine"]
    assert (genuine["n"] >= 50).all() and (genuine.groupby("restorer")["n"].sum() == 450).all()
    assert (genuine["rate"] <= 0.01).all()  # no tested restorer loses more than 1% of its faces
    pooled = table[(table["pairs"] == "impostor") & (table["restorer"] == "all")]
    assert len(pooled) == 5 and (pooled["n"] > 1000).all() and pooled["rate"].between(0, 1).all()


@pytest.mark.parametrize(("stem", "subset", "who"), [
    ("Abid_Hamid_Mahmud_Al-Tikriti_0001_00", "LFW-Test", "Abid_Hamid_Mahmud_Al-Tikriti"),
    ("149_Kristen Bell_00", "CelebChild-Test", "Kristen_Bell"),
    ("0024", "Wider-Test", "0024"),
])
def test_person_from_the_file_name(stem, subset, who):
    assert person(subset, stem) == who


def test_impostors_are_other_people_only():
    lq = np.eye(3)
    outputs = np.eye(3)
    genuine, impostor = pair_similarities(lq, outputs, ["a", "a", "b"])
    assert genuine.tolist() == [1.0, 1.0, 1.0]
    assert len(impostor) == 4  # (0,2), (1,2), (2,0), (2,1): the two faces of `a` are not impostors


def test_the_far_target_sets_the_threshold_when_every_restorer_keeps_its_faces():
    rng = np.random.default_rng(0)
    impostor = rng.uniform(0.0, 0.8, 10_000)
    genuine = {"r": rng.uniform(0.9, 1.0, 500)}
    t = threshold(genuine, impostor, Targets())
    assert np.mean(impostor >= t) <= 0.01 < np.mean(impostor >= t - 0.01)


def test_a_restorer_that_would_lose_faces_lowers_the_threshold():
    rng = np.random.default_rng(1)
    impostor = rng.uniform(0.0, 0.8, 10_000)
    genuine = {"kept": rng.uniform(0.9, 1.0, 500), "generative": rng.uniform(0.6, 1.0, 500)}
    t = threshold(genuine, impostor, Targets())
    assert max(np.mean(g < t) for g in genuine.values()) <= 0.01
    assert np.mean(genuine["generative"] < t + 0.01) > 0.01 and np.mean(impostor >= t) > 0.01


def test_calibrate_reports_every_restorer_and_the_pooled_impostors():
    rng = np.random.default_rng(2)
    unit = lambda x: x / np.linalg.norm(x, axis=1, keepdims=True)
    lq = unit(rng.normal(size=(20, 8)))
    outputs = {"same": {"S": lq}, "noisy": {"S": unit(lq + 0.3 * rng.normal(size=lq.shape))}}
    table = calibrate({"S": lq}, outputs, {"S": [f"{i:04d}" for i in range(20)]})
    assert set(zip(table["restorer"], table["pairs"])) == {
        ("same", "genuine"), ("same", "impostor"), ("noisy", "genuine"), ("noisy", "impostor"), ("all", "impostor")}
    assert table.loc[table["restorer"] == "all", "n"].item() == 2 * 20 * 19
    assert table["threshold"].nunique() == 1


def test_a_run_gated_offline_reports_the_calibration(tmp_path):
    from faceboard.catalog import ScoreFiles
    from faceboard.scoring import build
    from tests import boards

    frame = pd.DataFrame({"method": "m", "subset": ["CelebA"], "image": ["x"], "status": "ok", "error": "",
                          "id_sim": 0.99, "niqe": 5.0})
    files = boards.write(ScoreFiles(tmp_path), frame, boards.provenance(1))
    calibration = build.build(load_params(ROOT / "params.yaml"), {"m": files}).run["id_gate_calibration"]
    assert calibration["table"] == "data/calibration/dlib_resnet.csv" and "impostor" in calibration["rule"]
    rates = calibration["subsets"]["Wider-Test"]
    assert rates["threshold"] == thresholds(pd.read_csv(TABLE))["Wider-Test"]
    assert set(rates["false_reject"]) >= {"realesrgan-x4plus", "team15_NAFNet"} and 0 <= rates["false_accept"] <= 1
