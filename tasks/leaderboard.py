"""Stage `leaderboard`: gate, charge and aggregate every method's scores into one ranking, keep the gallery's
thumbnails beside it, and publish the ranking to Prefect (a table and a Markdown summary under stable keys)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd
from prefect import task
from prefect.artifacts import create_markdown_artifact, create_table_artifact
from prefect.cache_policies import NO_CACHE

from faceboard.catalog import BoardFiles, ScoreFiles
from faceboard.config import Params
from faceboard.report import publish, thumbnails
from faceboard.scoring import build


def build_leaderboard(params: Params, scores: Mapping[str, ScoreFiles], out: BoardFiles, inputs: Path | None = None,
                      outputs: Mapping[str, Path] | None = None) -> pd.DataFrame:
    """Build the leaderboard of `scores` ({method: its score files}) and write it to `out`, with the thumbnails of
    the LQ folder `inputs` and each method's output folder (`outputs`) when given."""
    board = build.build(params, scores)
    build.write(board, out)
    if inputs is not None:
        thumbnails.write(thumbnails.of_board(board.per_image, inputs, outputs or {}, params.report), out.thumbnails)
    return board.table


def publish_board(board: BoardFiles, page: Path) -> None:
    """The overall ranking as Prefect artifacts: the UI lists every run's under the same keys."""
    create_table_artifact(publish.ranking_rows(board), key=publish.TABLE_KEY,
                          description="faceboard leaderboard: overall ranking (table)")
    create_markdown_artifact(publish.ranking_markdown(board, page), key=publish.SUMMARY_KEY,
                             description="faceboard leaderboard: overall ranking")


leaderboard_task = task(build_leaderboard, name="leaderboard", cache_policy=NO_CACHE)
publish_board_task = task(publish_board, name="publish-ranking", cache_policy=NO_CACHE)
