"""The score formula in params.yaml reproduces the NTIRE 2025 final table (protocol.md)."""

from pathlib import Path

import pytest

from faceboard.config import load_params
from faceboard.scoring.formula import is_valid, score

ROOT = Path(__file__).resolve().parents[1]

# team, NIQE, CLIPIQA, MANIQA, MUSIQ, Q-Align, FID, failed, valid, Score
TABLE_2025 = [
    ("AllForFace", 3.9810, 0.9517, 0.7035, 77.5865, 4.4236, 55.3807, 1, True, 4.3638),
    ("IIL", 3.6979, 0.9337, 0.6826, 78.4876, 4.2337, 52.2038, 1, True, 4.3561),
    ("PISA-MAP", 4.5488, 0.9480, 0.6603, 78.8849, 4.5209, 57.3616, 2, True, 4.2728),
    ("MiPortrait", 5.8223, 0.9729, 0.7725, 78.2018, 4.6092, 64.3907, 5, True, 4.2231),
    ("AIIA", 4.2946, 0.9046, 0.6559, 77.0162, 4.2834, 60.0422, 2, True, 4.1575),
    ("UpHorse", 5.7813, 0.8834, 0.7444, 76.0564, 4.5482, 61.0268, 2, True, 4.1095),
    ("CX", 5.3603, 0.7780, 0.6336, 75.2278, 4.3585, 53.4188, 3, True, 3.9654),
    ("AIIALab", 5.0737, 0.7554, 0.6231, 75.7016, 4.3272, 56.5300, 10, True, 3.9283),
    ("ACVLab", 6.0577, 0.8077, 0.6951, 76.8980, 4.3840, 62.2699, 1, True, 3.9201),
    ("HH", 6.3267, 0.8000, 0.6591, 75.6512, 4.3302, 60.1384, 3, True, 3.8475),
    ("Fustar-fsr", 4.2674, 0.7933, 0.6605, 77.6443, 4.3848, 59.9098, 229, False, 4.0814),
    ("Night Watch", 6.5009, 0.8593, 0.7786, 77.1615, 4.5075, 76.5814, 130, False, 3.8952),
    ("IPCVC", 5.4568, 0.6781, 0.5298, 71.0464, 4.1491, 55.7525, 17, False, 3.6450),
]


@pytest.fixture(scope="module")
def params():
    return load_params(ROOT / "params.yaml")


@pytest.mark.parametrize("row", TABLE_2025, ids=[r[0] for r in TABLE_2025])
def test_score_reproduces_2025_table(params, row):
    team, niqe, clipiqa, maniqa, musiq, qalign, fid, failed, valid, expected = row
    values = dict(niqe=niqe, clipiqa=clipiqa, maniqa=maniqa, musiq=musiq, qalign=qalign, fid=fid)
    total, used = score(values, params.score_terms)
    assert total == pytest.approx(expected, abs=1e-3)
    assert sorted(used) == sorted(values)
    assert is_valid(failed, params.failure_limit(450)) is valid


def test_missing_terms_are_left_out_not_zero(params):
    total, used = score({"niqe": 4.0, "musiq": float("nan")}, params.score_terms)
    assert used == ["niqe"]
    assert total == pytest.approx(0.6)


def test_headroom_terms_clip_at_zero(params):
    assert score({"niqe": 12.0}, params.score_terms)[0] == 0.0
    assert score({"fid": 150.0}, params.score_terms)[0] == 0.0


def test_no_terms_gives_nan(params):
    total, used = score({}, params.score_terms)
    assert used == [] and total != total
