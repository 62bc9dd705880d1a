"""The whole leaderboard as one Prefect flow: what a scheduled deployment runs.

It calls the same stage flows that dvc.yaml's stages run, in the same order.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from faceboard.config import load_params
from faceboard.env import PARAMS_FILE
from flows.stages import (
    degrade_flow,
    fetch_flow,
    leaderboard_flow,
    paired_flow,
    report_flow,
    restore_flow,
    score_flow,
)


@flow(name="faceboard-leaderboard")
def full_leaderboard(root: str = ".") -> str:
    params = load_params(Path(root) / PARAMS_FILE)
    fetch_flow(root)
    for method in params.methods:
        restore_flow(method, root)
        score_flow(method, root)
    leaderboard_flow(root)
    degrade_flow(root)
    paired_flow(root)
    return report_flow(root)
