"""Stage `leaderboard`: gate, charge and aggregate every method's scores into one ranking."""

from __future__ import annotations

from collections.abc import Mapping

import pandas as pd
from prefect import task

from faceboard.catalog import BoardFiles, ScoreFiles
from faceboard.config import Params
from faceboard.scoring import build


def build_leaderboard(params: Params, scores: Mapping[str, ScoreFiles], out: BoardFiles) -> pd.DataFrame:
    """Build the leaderboard of `scores` ({method: its score files}) and write it to `out`."""
    board = build.build(params, scores)
    build.write(board, out)
    return board.table


leaderboard_task = task(build_leaderboard, name="leaderboard")
