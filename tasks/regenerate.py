"""The scheduled regeneration's steps: DVC commands in the project, then publishing the report.

The ranking's Prefect artifacts come from the `leaderboard` stage itself (tasks/leaderboard.py), whichever way
it runs."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from faceboard.catalog import Catalog
from faceboard.dvc_repo import dvc, stages_run
from faceboard.report.publish import copy_report


@task(name="dvc")
def dvc_task(root: Path, *args: str) -> list[str]:
    """`dvc ARGS` in the project, its output streamed to the log; the stages it ran (for `repro`)."""
    return stages_run(dvc(root, *args, echo=True))


@task(name="publish")
def publish_task(root: Path, publish_dir: str | None) -> list[str]:
    """The report and run.json copied to `publish_dir`, if set."""
    if publish_dir is None:
        return []
    cat = Catalog(root)
    return [str(p) for p in copy_report(cat.report, cat.board, root / publish_dir)]
