"""The scheduled regeneration: what a person does to refresh the leaderboard, as one Prefect flow.

`dvc pull` (when the project has a default DVC remote) brings what another machine computed; `dvc repro`
runs only the stages whose inputs changed (each stage runs its own Prefect flow, flows/stages.py) and
updates dvc.lock; `dvc push` shares the results; the report is then published. `faceboard serve` deploys it
on params.yaml's `schedule.cron`; `faceboard regenerate` runs it once, now.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow
from prefect.tasks import exponential_backoff

from faceboard import runlock
from faceboard.config import load_params
from faceboard.dvc_repo import default_remote
from faceboard.env import PARAMS_FILE
from tasks.regenerate import dvc_task, publish_task


@flow(name="faceboard-regenerate", log_prints=True, persist_result=True)  # result kept for API readers
def regenerate(root: str = ".") -> dict:
    """Pull, reproduce, push, publish; returns the stages that ran and what was published."""
    project = Path(root).resolve()
    schedule = load_params(project / PARAMS_FILE).schedule
    remote = default_remote(project)
    network = dvc_task.with_options(retries=schedule.retries,
                                    retry_delay_seconds=exponential_backoff(schedule.retry_delay_s))
    with runlock.exclusive(*runlock.of_project(None, project)):  # a scheduled run waits for no one: it stops
        if remote:
            network(project, "pull", "--allow-missing")  # what the remote lacks is computed by repro
        ran = dvc_task(project, "repro")
        if remote:
            network(project, "push")
        published = publish_task(project, schedule.publish_dir)
    return {"remote": remote, "stages_run": ran, "published": published}
