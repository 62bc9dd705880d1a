"""Stage `report`: the HTML page from the board's tables (with the paired track where it has run), and the files
`dvc metrics show` and `dvc plots show` read."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from faceboard.catalog import BoardFiles
from faceboard.report import dvc_views, page


def render_report(board: BoardFiles, out: Path, paired: BoardFiles | None = None,
                  metrics: Path | None = None, plot: Path | None = None) -> Path:
    """The page of `board` at `out`; the DVC metrics and plot files when their paths are given."""
    page.write(board, out, paired)
    if metrics is not None and plot is not None:
        dvc_views.write(board, metrics, plot)
    return out


report_task = task(render_report, name="report", cache_policy=NO_CACHE)
