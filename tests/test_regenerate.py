"""The scheduled regeneration (dvc pull, repro, push, publish) on a real Prefect server, and a DVC remote that
lets a fresh clone reproduce the leaderboard without recomputing."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pandas as pd
import pytest
import yaml

from faceboard.catalog import BoardFiles
from faceboard.config import OPERATIONAL, Params
from faceboard.dvc_repo import stages_run
from faceboard.env import with_venv_on_path
from faceboard.report.publish import SUMMARY_KEY, copy_report, ranking_markdown
from tests.conftest import FACEBOARD, ROOT, dvc, run_cli

DEPLOYMENT = "faceboard-regenerate/scheduled"
UP_TO_DATE = "Data and pipelines are up to date."


def test_the_leaderboard_stage_tracks_every_param_but_the_operational_ones():
    stage = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]["leaderboard"]
    assert set(stage["params"]) == set(Params.model_fields) - OPERATIONAL


def test_the_schedule_does_not_change_the_run_fingerprint():
    from faceboard.config import load_params

    params = load_params(ROOT / "params.yaml")
    other = params.model_copy(update={"schedule": params.schedule.model_copy(update={"cron": "5 4 * * 1"})})
    assert other.results_config() == params.results_config() and "schedule" not in params.results_config()


def _board(tmp_path: Path, methods: list[str]) -> BoardFiles:
    board = BoardFiles(tmp_path / "board")
    board.folder.mkdir()
    rows = [{"method": m, "subset": s, "score": 0.5 - 0.1 * k, "valid": k < 2, "rank": float(k + 1) if k < 2 else None,
             "comparable_to_official": False, "id_failures": 0} for k, m in enumerate(methods) for s in ("all", "CelebA")]
    pd.DataFrame(rows).to_parquet(board.leaderboard)
    board.run_info.write_text(json.dumps({"methods": methods, "metrics": []}))
    return board


def test_the_ranking_summary_lists_valid_methods_by_rank_then_invalid_ones_with_names_escaped(tmp_path):
    board = _board(tmp_path, ["b", "a|<img src=x onerror=alert(1)>", "c"])
    lines = ranking_markdown(board, tmp_path / "report.html").splitlines()
    rows = [line for line in lines if line.startswith("| ") and "---" not in line][1:]
    assert [r.split(" | ")[1] for r in rows] == ["b", "a\\|&lt;img src=x onerror=alert(1)&gt;", "c"]
    assert rows[0].startswith("| 1 | b | 0.5000 | yes") and rows[2].startswith("|  | c | 0.3000 | no")


def test_publishing_copies_the_report_and_run_info(tmp_path):
    board = _board(tmp_path, ["a"])
    report = tmp_path / "leaderboard.html"
    report.write_text("<html>ranking</html>")
    copied = copy_report(report, board, tmp_path / "public" / "faceboard")
    assert [p.name for p in copied] == ["leaderboard.html", "run.json"]
    assert copied[0].read_text() == report.read_text() and copied[1].read_bytes() == board.run_info.read_bytes()


# --- on a reproduced copy of the project (slow) -------------------------------------------------------------

@pytest.fixture(scope="module")
def project_with_remote(reproduced_project, tmp_path_factory):
    """The reproduced project with a local DVC remote as its default, committed, as a team would set it up."""
    project, _ = reproduced_project
    remote = tmp_path_factory.mktemp("dvc-remote")
    dvc(project, "remote", "add", "--default", "--force", "local", str(remote))
    _git(project, "add", "-A")
    _git(project, "commit", "-qm", "DVC remote; reproduced")
    return project, remote


def _git(folder: Path, *args: str) -> None:
    subprocess.run(["git", "-c", "user.name=t", "-c", "user.email=t@t", *args], cwd=folder, check=True)


@pytest.mark.slow
def test_a_fresh_clone_pulls_from_the_remote_and_recomputes_nothing(project_with_remote, tmp_path):
    project, _ = project_with_remote
    dvc(project, "push")
    clone = tmp_path / "clone"
    subprocess.run(["git", "clone", "-q", str(project), str(clone)], check=True)
    assert not (clone / "data" / "leaderboard").exists()
    dvc(clone, "pull")
    assert UP_TO_DATE in dvc(clone, "status")
    assert stages_run(dvc(clone, "repro")) == []
    for table in ("data/leaderboard/leaderboard.parquet", "data/leaderboard/per_image.parquet"):
        pd.testing.assert_frame_equal(pd.read_parquet(clone / table), pd.read_parquet(project / table))
    assert (clone / "reports/leaderboard.html").read_bytes() == (project / "reports/leaderboard.html").read_bytes()


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait(what: str, check, timeout: float, process: subprocess.Popen | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process is not None and process.poll() is not None:
            raise AssertionError(f"{what}: the process exited with {process.returncode}")
        try:
            if check():
                return
        except OSError:
            pass
        time.sleep(1)
    raise AssertionError(f"{what}: not within {timeout:.0f} s")


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def _client(code: str, env: dict[str, str]) -> dict:
    """Run `code` (which prints one JSON line) against the server in a fresh interpreter."""
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=1200,
                          check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1])


DEPLOYMENT_INFO = f"""
import json
from prefect.client.orchestration import get_client
with get_client(sync_client=True) as client:
    d = client.read_deployment_by_name("{DEPLOYMENT}")
    print(json.dumps({{"cron": [s.schedule.cron for s in d.schedules], "parameters": d.parameters}}))
"""

TRIGGER = f"""
import json
from prefect.client.orchestration import get_client
from prefect.deployments import run_deployment
run = run_deployment("{DEPLOYMENT}", timeout=1100, poll_interval=2)
from prefect.client.schemas.filters import ArtifactFilter, ArtifactFilterKey
result = run.state.result(raise_on_failure=False) if run.state.is_completed() else None
with get_client(sync_client=True) as client:
    artifacts = client.read_artifacts(artifact_filter=ArtifactFilter(key=ArtifactFilterKey(any_=["{SUMMARY_KEY}"])))
print(json.dumps({{"state": run.state.type.value, "message": run.state.message, "result": result,
                  "artifacts": [a.data for a in artifacts]}}, default=str))
"""


@pytest.mark.slow
def test_a_scheduled_deployment_on_a_real_prefect_server_reproduces_and_pushes(project_with_remote, tmp_path):
    project, _ = project_with_remote
    params = yaml.safe_load((project / "params.yaml").read_text())
    params["methods"]["opencv_nlm_sharpen"]["options"]["h"] = 5  # a change the run must pick up
    params["schedule"]["publish_dir"] = "public"
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    lock_before = (project / "dvc.lock").read_text()
    report_before = (project / "reports/leaderboard.html").stat().st_mtime_ns

    port = _free_port()
    env = {**with_venv_on_path(), "PREFECT_HOME": str(tmp_path / "prefect-home"),
           "PREFECT_API_URL": f"http://127.0.0.1:{port}/api", "PREFECT_RUNNER_POLL_FREQUENCY": "2",
           "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    server = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1",
                               "--port", str(port)], env=env, start_new_session=True,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    serve = None
    try:
        _wait("the Prefect server", lambda: urllib.request.urlopen(f"{env['PREFECT_API_URL']}/health",
                                                                    timeout=2).status == 200, 180, server)
        serve = subprocess.Popen([*FACEBOARD, "serve"], cwd=project, env=env, start_new_session=True,
                                 stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        _wait("the deployment", lambda: subprocess.run(
            [sys.executable, "-m", "prefect", "deployment", "inspect", DEPLOYMENT], env=env,
            capture_output=True, check=False).returncode == 0, 180, serve)
        deployment = _client(DEPLOYMENT_INFO, env)
        assert deployment["cron"] == [params["schedule"]["cron"]]
        assert deployment["parameters"] == {"root": str(project)}

        run = _client(TRIGGER, env)
        assert run["state"] == "COMPLETED", run
    finally:
        for process in (serve, server):
            if process is not None:
                _stop(process)
    ran = set(run["result"]["stages_run"])
    assert {"restore@opencv_nlm_sharpen", "score@opencv_nlm_sharpen", "leaderboard", "report"} <= ran
    assert not any(stage.startswith(("restore@lq", "score@lq", "score@team15")) for stage in ran)
    assert run["result"]["remote"] == "local"
    assert (project / "dvc.lock").read_text() != lock_before
    assert (project / "reports/leaderboard.html").stat().st_mtime_ns > report_before
    assert UP_TO_DATE in dvc(project, "status")
    assert "in sync" in dvc(project, "status", "--cloud")  # pushed
    assert any("| opencv_nlm_sharpen |" in data for data in run["artifacts"])
    assert (project / "public/leaderboard.html").read_bytes() == (project / "reports/leaderboard.html").read_bytes()


@pytest.mark.slow
def test_regenerating_without_a_server_reruns_nothing_when_nothing_changed(project_with_remote):
    project, _ = project_with_remote
    done = run_cli("regenerate", cwd=project)
    assert "stages run: none" in done.stdout
    assert UP_TO_DATE in dvc(project, "status")
