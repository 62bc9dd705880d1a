"""Stage `report`: the HTML page from the board's tables (with the paired track where it has run), and the files
`dvc metrics show` and `dvc plots show` read; and the degradation gallery's thumbnails for the paired board."""

from __future__ import annotations

from pathlib import Path

from prefect import task
from prefect.cache_policies import NO_CACHE

from faceboard.catalog import BoardFiles
from faceboard.config import ReportConfig
from faceboard.report import dvc_views, page, thumbnails


def render_report(board: BoardFiles, out: Path, paired: BoardFiles | None = None,
                  metrics: Path | None = None, plot: Path | None = None) -> Path:
    """The page of `board` at `out`; the DVC metrics and plot files when their paths are given."""
    page.write(board, out, paired)
    if metrics is not None and plot is not None:
        dvc_views.write(board, metrics, plot)
    return out


def presets_gallery(gallery_dir: Path, config: ReportConfig, board: BoardFiles) -> Path | None:
    """The degradation gallery's thumbnails, kept beside the paired board (None without a gallery)."""
    gallery = thumbnails.of_presets(gallery_dir, config)
    if gallery is None:
        return None
    thumbnails.write(gallery, board.thumbnails)
    return board.thumbnails


report_task = task(render_report, name="report", cache_policy=NO_CACHE)
presets_gallery_task = task(presets_gallery, name="presets-gallery", cache_policy=NO_CACHE)
