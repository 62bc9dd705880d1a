"""The verdict on real images: a failed image never helps, the failure limit fires, scores made differently
are never combined."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from faceboard.catalog import BoardFiles, ScoreFiles
from faceboard.config import Params, load_params
from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images
from faceboard.scoring import build
from faceboard.scoring.per_image import Scorer
from tasks.score import items_for, write_scores
from tests import boards
from tests.conftest import ROOT, SAMPLE, SHARED_VAL, run_cli

SUBMISSION = "submissions/team15_NAFNet"


def _params(**changes) -> Params:
    raw = load_params(ROOT / "params.yaml").model_dump()
    for key, value in changes.items():
        raw[key] = {**raw[key], **value}
    return Params.model_validate(raw)


def _board(params: Params, scores: dict[str, ScoreFiles]) -> pd.DataFrame:
    return build.build(params, scores).table.set_index(["method", "subset"])


def _score(scorer: Scorer, dataset: Path, outputs: Path, out: ScoreFiles, method: str = "team") -> list[dict]:
    """Score `outputs` against the dataset's LQ images as the score stage does; write and return the rows."""
    items, _ = items_for(list_images(dataset / "lq"), list_images(outputs), load_landmarks(dataset / "landmarks.csv"))
    rows = scorer.score(method, items, batch_size=8, desc=method)
    write_scores(out, rows, scorer, {"dataset": boards.dataset_record(len(items))})
    return rows


def _never_better(before: pd.DataFrame, after: pd.DataFrame, lower_better: dict[str, bool]) -> None:
    for metric, lower in lower_better.items():
        worse = after[metric] - before[metric] if lower else before[metric] - after[metric]
        assert (worse >= -1e-12).all(), (metric, (after[metric] - before[metric]).to_dict())
    assert (before["score"] - after["score"] >= -1e-12).all(), (after["score"] - before["score"]).to_dict()


@pytest.mark.parametrize("k", [1, 5, 10])
def test_corrupting_the_worst_outputs_never_helps_on_the_sample(tmp_path, k):
    """Truncate the k outputs with the worst value of each metric; no mean and no score gets better."""
    params = _params()
    scorer = Scorer({"niqe": {}, "piqe": {}}, None, "cpu", tmp_path / "cache")
    clean = _score(scorer, SAMPLE, SAMPLE / SUBMISSION, ScoreFiles(tmp_path / "clean"))
    before = _board(params, {"team": ScoreFiles(tmp_path / "clean")})
    for metric in ("niqe", "piqe"):  # both lower-better
        worst = sorted(clean, key=lambda row: row[metric], reverse=True)[:k]
        broken = tmp_path / f"broken-{metric}"
        shutil.copytree(SAMPLE / SUBMISSION, broken)
        for row in worst:
            path = broken / row["subset"] / f"{row['image']}.png"
            path.write_bytes(path.read_bytes()[:300])
        rows = _score(scorer, SAMPLE, broken, ScoreFiles(tmp_path / metric))
        assert sum(row["status"] == "failed" for row in rows) == k
        after = _board(params, {"team": ScoreFiles(tmp_path / metric)})
        _never_better(before, after, {"niqe": True, "piqe": True})
        assert after.loc[("team", "all"), "n_failed"] == k


@pytest.mark.slow
@pytest.mark.skipif(not SHARED_VAL.is_dir(), reason="needs ../shared/ntire2025/val")
def test_withholding_the_worst_outputs_never_helps_on_450_validation_faces(tmp_path):
    """NAFNet's 450 validation outputs: withholding its k worst-NIQE faces (k = 1, 5, 10) never helps.

    The withheld rows are what the scorer writes for a missing output (status failed, no value, the LQ
    input's values kept), so the 450 images are scored once."""
    params = _params()
    scorer = Scorer({"niqe": {}}, None, "cpu", tmp_path / "cache")
    clean = _score(scorer, SHARED_VAL, SHARED_VAL / SUBMISSION, ScoreFiles(tmp_path / "clean"))
    assert sum(row["status"] == "ok" for row in clean) == 450
    before = _board(params, {"team": ScoreFiles(tmp_path / "clean")})
    order = sorted(range(450), key=lambda i: clean[i]["niqe"], reverse=True)
    for k in (1, 5, 10):
        rows = [dict(row) for row in clean]
        for i in order[:k]:
            rows[i].update(status="failed", error="no output", niqe=float("nan"))
        write_scores(ScoreFiles(tmp_path / f"k{k}"), rows, scorer, {"dataset": boards.dataset_record(450)})
        after = _board(params, {"team": ScoreFiles(tmp_path / f"k{k}")})
        _never_better(before, after, {"niqe": True})
        drop = _board(_params(score={"failed_images": "drop"}), {"team": ScoreFiles(tmp_path / f"k{k}")})
        assert drop.loc[("team", "all"), "niqe"] < before.loc[("team", "all"), "niqe"]  # what `drop` would allow


def test_one_identity_swap_on_the_sample_makes_the_method_invalid(tmp_path):
    swapped = tmp_path / "team15_NAFNet"
    shutil.copytree(SAMPLE / SUBMISSION, swapped)
    shutil.copy(swapped / "LFW-Test" / "Alex_Penelas_0001_00.png",
                swapped / "LFW-Test" / "Abid_Hamid_Mahmud_Al-Tikriti_0001_00.png")  # another person's face
    for folder, expected in ((SAMPLE / SUBMISSION, True), (swapped, False)):
        out = tmp_path / f"out-{expected}"
        run_cli("score", str(folder), "--lq", str(SAMPLE / "lq"), "--metrics", "niqe", "--out", str(out))
        overall = pd.read_parquet(BoardFiles(out).leaderboard).set_index("subset").loc["all"]
        assert overall["id_failure_limit"] == 0  # 10 of 450, scaled to 10 images
        assert overall["id_failures"] == (0 if expected else 1) and overall["valid"] == expected
        assert pd.isna(overall["rank"]) != expected


@pytest.mark.parametrize(("failures", "valid"), [(10, True), (11, False)])
def test_450_images_allow_exactly_ten_failures(tmp_path, failures, valid):
    subsets = [s for s, n in (("CelebA", 100), ("CelebChild-Test", 50), ("LFW-Test", 100), ("WebPhoto-Test", 100),
                              ("Wider-Test", 100)) for _ in range(n)]
    frame = pd.DataFrame({"method": "m", "subset": subsets, "image": [f"i{i}" for i in range(450)], "status": "ok",
                          "error": "", "id_sim": [0.0] * failures + [0.99] * (450 - failures), "niqe": 5.0})
    files = boards.write(ScoreFiles(tmp_path / "m"), frame, boards.provenance(450))
    overall = build.build(_params(), {"m": files}).table.set_index("subset").loc["all"]
    assert (overall["id_failure_limit"], overall["id_failures"], overall["valid"]) == (10, failures, valid)


@pytest.mark.parametrize(("path", "value", "field"), [
    (("dataset", "name"), "other", "dataset"),
    (("dataset", "lq_sha256"), "9" * 64, "LQ content"),
    (("dataset", "protocol"), "ntire2026", "protocol"),
    (("id_backbone", "backbone"), "adaface_ir50", "ID backbone"),
    (("metrics", "piqe"), {"options": {}}, "metric set"),
])
def test_scores_made_differently_are_not_combined(tmp_path, path, value, field):
    frame = pd.DataFrame({"method": "a", "subset": ["CelebA"], "image": ["x"], "status": "ok", "error": "",
                          "id_sim": 0.99, "niqe": 5.0})
    a = boards.write(ScoreFiles(tmp_path / "a"), frame, boards.provenance(1))
    other = boards.provenance(1)
    node = other
    for key in path[:-1]:
        node = node[key]
    node[path[-1]] = value
    b = boards.write(ScoreFiles(tmp_path / "b"), frame.assign(method="b"), other)
    with pytest.raises(ValueError, match=f"scores disagree on {field} "):
        build.build(_params(), {"a": a, "b": b})
