"""Shards on a task runner (params.yaml `execution`): worker processes here or a dask.distributed cluster give
the serial run's results byte for byte, GPU shards take turns through a Prefect concurrency limit, and the
execution section changes no result."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
import time

import pandas as pd
import pytest
import yaml
from prefect import get_client
from prefect.task_runners import ProcessPoolTaskRunner, ThreadPoolTaskRunner

from faceboard.config import ExecutionConfig, load_params
from faceboard.dvc_repo import stages_run
from faceboard.scoring.per_image import ScorerSpec, loaded, unload
from flows.task_runners import lanes_per_worker, task_runner
from tasks.gpu import gpu_turn, limit_name
from tests.conftest import ROOT, copy_project, dvc, run_cli


def test_the_task_runner_follows_the_execution_params():
    assert isinstance(task_runner(ExecutionConfig()), ThreadPoolTaskRunner)
    runner = task_runner(ExecutionConfig(workers=3))
    assert isinstance(runner, ProcessPoolTaskRunner) and runner._max_workers == 3
    from prefect_dask import DaskTaskRunner

    local = task_runner(ExecutionConfig(runner="dask", workers=2))
    assert isinstance(local, DaskTaskRunner) and local.cluster_kwargs["n_workers"] == 2
    remote = task_runner(ExecutionConfig(runner="dask", dask_address="tcp://10.0.0.5:8786"))
    assert remote.address == "tcp://10.0.0.5:8786"
    assert lanes_per_worker(ExecutionConfig(workers=64)) == 1


def test_execution_changes_no_result_and_reruns_no_stage():
    params = load_params(ROOT / "params.yaml")
    other = params.model_copy(update={"execution": ExecutionConfig(workers=4, runner="dask")})
    assert other.results_config() == params.results_config() and "execution" not in params.results_config()
    stages = yaml.safe_load((ROOT / "dvc.yaml").read_text())["stages"]
    for stage in stages.values():
        tracked = (stage.get("do") or stage).get("params", [])
        assert not any(str(key).startswith("execution") for key in tracked)


def test_a_cpu_shard_takes_no_gpu_turn(monkeypatch):
    monkeypatch.setenv("PREFECT_API_URL", "http://127.0.0.1:9/api")  # nothing answers there
    with gpu_turn("cpu"):
        pass


def test_gpu_shards_take_turns_through_a_prefect_concurrency_limit():
    from faceboard import prefect_api

    prefect_api.start_early()
    prefect_api.ready()
    inside, most = [], {}
    lock = threading.Lock()

    def shard(slots: int) -> None:
        with gpu_turn("cuda:0", slots):
            with lock:
                inside.append(1)
                most[slots] = max(most.get(slots, 0), len(inside))
            time.sleep(0.4)
            with lock:
                inside.pop()

    for slots in (1, 2):
        threads = [threading.Thread(target=shard, args=(slots,)) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert most == {1: 1, 2: 2}
    with get_client(sync_client=True) as client:
        limit = client.read_global_concurrency_limit_by_name(limit_name("cuda:0"))
    assert limit.limit == 2 and limit.active_slots == 0


def test_a_process_loads_one_scorer_per_spec(tmp_path):
    spec = ScorerSpec({}, None, "cpu", tmp_path)
    first = loaded(spec)
    assert loaded(ScorerSpec({}, None, "cpu", tmp_path)) is first
    other = loaded(ScorerSpec({}, None, "cpu", tmp_path, lanes=1))
    assert other is not first and other.lanes == 1
    unload()
    assert loaded(spec) is not first


RUN = """
import sys
if __name__ == "__main__":
    from flows.stages import configured, fetch_flow, leaderboard_flow, methods_flow
    root = sys.argv[1]
    fetch_flow(root)
    configured(methods_flow, root)(root)
    leaderboard_flow(root)
"""


@pytest.mark.slow
def test_worker_processes_and_a_dask_cluster_give_the_serial_leaderboard(tmp_path):
    """Every method's restore and score shards (realesrgan-x4plus left out: minutes on a CPU) run one after
    another, in 2 worker processes, and on a dask.distributed LocalCluster of 2 worker processes."""
    script = tmp_path / "run.py"
    script.write_text(RUN)
    outputs = {}
    for name, execution in {"serial": {"workers": 1}, "processes": {"workers": 2},
                            "dask": {"workers": 2, "runner": "dask"}}.items():
        project = copy_project(tmp_path / name)
        params = yaml.safe_load((project / "params.yaml").read_text())
        del params["methods"]["realesrgan-x4plus"]
        params["execution"] = execution
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        done = subprocess.run([sys.executable, str(script), str(project)], cwd=project, capture_output=True,
                              text=True, check=False)
        assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
        if name == "dask":
            assert "distributed.scheduler" in done.stderr + done.stdout  # a real cluster ran the shards
        outputs[name] = {path.relative_to(project).as_posix(): path.read_bytes()
                         for folder in ("data/leaderboard", "data/scores", "data/restored")
                         for path in sorted((project / folder).rglob("*")) if path.is_file()
                         and path.name != "run.json"}
    assert any(name.endswith("leaderboard.parquet") for name in outputs["serial"])
    assert len([n for n in outputs["serial"] if n.endswith(".png")]) == 40
    for name in ("processes", "dask"):
        assert outputs[name].keys() == outputs["serial"].keys()
        differ = [path for path, data in outputs[name].items() if data != outputs["serial"][path]]
        assert not differ, f"{name}: {differ}"


@pytest.mark.slow
def test_faceboard_run_with_two_workers_computes_a_new_method_first_and_dvc_records_it(reproduced_project):
    """With execution.workers 2, `faceboard run` restores and scores the stale method's shards in worker
    processes, then `dvc repro` runs only that method's stages and the boards, which find the work done."""
    project, _ = reproduced_project
    original = (project / "params.yaml").read_text()
    params = yaml.safe_load(original)
    params["methods"]["nlm_mild"] = {"type": "opencv_nlm_sharpen", "options": {"h": 3, "sharpen_amount": 0.5}}
    params["execution"] = {"workers": 2}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    try:
        done = run_cli("run", cwd=project)
        output = done.stdout + done.stderr
        assert set(stages_run(output)) == {"restore@nlm_mild", "score@nlm_mild", "leaderboard", "report"}
        for subset in ("CelebA", "CelebChild-Test", "LFW-Test", "WebPhoto-Test", "Wider-Test"):
            assert output.count(f"restore nlm_mild/{subset}:") == 1, subset  # once, by a worker; the stage resumed
        assert dvc(project, "status").strip().endswith("Data and pipelines are up to date.")
        board = pd.read_parquet(project / "data/leaderboard/leaderboard.parquet")
        assert "nlm_mild" in set(board["method"])
    finally:  # the method removed again, with its outputs (the leaderboard depends on all of data/scores)
        (project / "params.yaml").write_text(original)
        for folder in ("data/restored/nlm_mild", "data/scores/nlm_mild"):
            shutil.rmtree(project / folder, ignore_errors=True)
        dvc(project, "repro")
