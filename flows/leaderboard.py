"""The whole leaderboard as one Prefect flow, without DVC (`faceboard run --no-dvc`).

It calls the same stage flows that dvc.yaml's stages run, in the same order, except that every method's
restore and score shards run on one task runner (params.yaml `execution`), methods side by side.
"""

from __future__ import annotations

from prefect import flow

from flows.stages import (
    configured,
    degrade_flow,
    fetch_flow,
    leaderboard_flow,
    methods_flow,
    paired_flow,
    report_flow,
)


@flow(name="faceboard-leaderboard")
def full_leaderboard(root: str = ".") -> str:
    fetch_flow(root)
    configured(methods_flow, root)(root)
    leaderboard_flow(root)
    degrade_flow(root)
    paired_flow(root)
    return report_flow(root)
