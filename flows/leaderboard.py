"""The whole leaderboard as one Prefect flow, without DVC (`faceboard run --no-dvc`), and the shards DVC
would run, side by side, before `dvc repro` (`faceboard run` with several workers).

Both call the same stage flows that dvc.yaml's stages run, except that every method's restore and score
shards run on one task runner (params.yaml `execution`), methods side by side.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from faceboard.config import load_params
from faceboard.dvc_repo import stale_stages
from faceboard.env import PARAMS_FILE
from flows.stages import (
    configured,
    degrade_flow,
    fetch_flow,
    leaderboard_flow,
    methods_flow,
    paired_flow,
    paired_leaderboard_flow,
    report_flow,
)


@flow(name="faceboard-leaderboard")
def full_leaderboard(root: str = ".") -> str:
    fetch_flow(root)
    configured(methods_flow, root)(root)
    leaderboard_flow(root)
    degrade_flow(root)
    for method in load_params(Path(root) / PARAMS_FILE).paired.methods:
        paired_flow(method, root)
    paired_leaderboard_flow(root)
    return report_flow(root)


@flow(name="faceboard-shards-first")
def shards_first(root: str = ".") -> list[str]:
    """The restore and score shards of every method whose stage DVC finds stale, on the configured task
    runner. The `dvc repro` that follows runs each stage as usual, which resumes the restored images and
    reads the scores from the cache (faceboard.scoring.measure): seconds per stage. Returns those methods."""
    stale = {name.partition("@")[2] for name in stale_stages(Path(root)) if name.startswith(("restore@", "score@"))}
    methods = [method for method in load_params(Path(root) / PARAMS_FILE).methods if method in stale]
    if methods:
        fetch_flow(root)
        configured(methods_flow, root)(root, methods)
    return methods
