"""The scheduled regeneration's steps: DVC commands in the project, then publishing the report."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.artifacts import create_markdown_artifact

from faceboard.catalog import Catalog
from faceboard.dvc_repo import dvc, stages_run
from faceboard.report.publish import copy_report, ranking_markdown

ARTIFACT_KEY = "faceboard-leaderboard"  # stable: the Prefect UI lists every run's ranking under it


@task(name="dvc")
def dvc_task(root: Path, *args: str) -> list[str]:
    """`dvc ARGS` in the project, its output streamed to the log; the stages it ran (for `repro`)."""
    return stages_run(dvc(root, *args, echo=True))


@task(name="publish")
def publish_task(root: Path, publish_dir: str | None) -> list[str]:
    """The ranking as a Prefect Markdown artifact; the report and run.json copied to `publish_dir` if set."""
    cat = Catalog(root)
    create_markdown_artifact(ranking_markdown(cat.board, cat.report), key=ARTIFACT_KEY,
                             description="faceboard leaderboard: overall ranking")
    if publish_dir is None:
        return []
    return [str(p) for p in copy_report(cat.report, cat.board, root / publish_dir)]
