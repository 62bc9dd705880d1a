"""The DVC pipeline on a fresh copy of the project: same numbers, skips, targeted reruns.

Each stage runs a Prefect flow in its own process, so this module takes a few minutes.
"""

from __future__ import annotations

import json
import subprocess
import sys

import pandas as pd
import pytest
import yaml

from faceboard.dvc_repo import stages_run
from tests.conftest import ROOT, copy_project, dvc

pytestmark = pytest.mark.slow


def ran(output: str) -> set[str]:
    return set(stages_run(output))


@pytest.fixture(scope="module")
def project(reproduced_project):
    project, first = reproduced_project
    board = pd.read_parquet(project / "data/leaderboard/leaderboard.parquet")
    return project, first, board


def test_fresh_clone_reproduces_the_committed_lock(project):
    project, first, _ = project
    assert "report" in ran(first)
    committed = yaml.safe_load((ROOT / "dvc.lock").read_text())
    rebuilt = yaml.safe_load((project / "dvc.lock").read_text())
    for stage in ("leaderboard", "score@lq", "score@team15_NAFNet", "restore@opencv_nlm_sharpen", "degrade",
                  "paired@lq", "paired@opencv_nlm_sharpen", "paired_leaderboard"):
        assert rebuilt["stages"][stage]["outs"] == committed["stages"][stage]["outs"], stage
    board = pd.read_parquet(project / "data/leaderboard/leaderboard.parquet")
    assert set(board["method"]) == {"lq", "opencv_nlm_sharpen", "team15_NAFNet", "realesrgan-x4plus", "nlm_niqe_chain"}
    assert {"degrade", "paired@lq", "paired@opencv_nlm_sharpen", "paired_leaderboard"} <= ran(first)
    paired = pd.read_parquet(project / "data/paired/leaderboard/leaderboard.parquet")
    assert list(paired["method"]) == ["lq", "opencv_nlm_sharpen"]
    html = (project / "reports/leaderboard.html").read_text()
    assert html.count("<tr") > 10 and 'id="paired"' in html and 'id="gallery"' in html


def test_dvc_shows_the_scores_and_renders_the_terms_plot_offline(project, tmp_path):
    project, _, board = project
    shown = json.loads(dvc(project, "metrics", "show", "--json"))
    metrics = next(iter(shown.values()))["data"]["reports/metrics.json"]["data"]
    overall = board[board["subset"] == "all"].set_index("method")
    assert set(metrics) == set(overall.index)
    for method, values in metrics.items():
        assert values["score"] == pytest.approx(overall.loc[method, "score"], abs=1e-6)
        assert values["niqe_term"] == pytest.approx(overall.loc[method, "score"], abs=1e-6)  # the only term here
    dvc(project, "plots", "show", "-o", str(tmp_path / "plots"))
    index = (tmp_path / "plots" / "index.html").read_text()
    assert "<script" not in index and "score_terms.svg" in index  # an image plot: nothing to fetch
    assert list((tmp_path / "plots" / "static").glob("*score_terms.svg"))


def test_second_repro_runs_nothing(project):
    project, _, _ = project
    assert ran(dvc(project, "repro")) == set()


def test_changing_one_method_reruns_only_it_and_the_leaderboard(project):
    project, _, _ = project
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["methods"]["opencv_nlm_sharpen"]["options"]["h"] = 9
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    before = pd.read_parquet(project / "data/leaderboard/leaderboard.parquet").set_index(["method", "subset"])
    again = ran(dvc(project, "repro"))
    assert again == {"restore@opencv_nlm_sharpen", "score@opencv_nlm_sharpen", "leaderboard",
                     "paired@opencv_nlm_sharpen", "paired_leaderboard", "report"}
    after = pd.read_parquet(project / "data/leaderboard/leaderboard.parquet").set_index(["method", "subset"])
    assert after.loc[("lq", "all"), "niqe"] == before.loc[("lq", "all"), "niqe"]
    assert after.loc[("opencv_nlm_sharpen", "all"), "niqe"] != before.loc[("opencv_nlm_sharpen", "all"), "niqe"]


def test_in_process_flow_gives_the_same_leaderboard(project, tmp_path):
    _, _, dvc_board = project
    other = copy_project(tmp_path)
    done = subprocess.run([sys.executable, "-m", "faceboard.cli", "run", "--no-dvc"], cwd=other,
                          capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr
    assert "leaderboard.parquet" in done.stdout
    flow_board = pd.read_parquet(other / "data/leaderboard/leaderboard.parquet")
    pd.testing.assert_frame_equal(flow_board, dvc_board)
