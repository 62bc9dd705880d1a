"""Stage `report`: the static HTML leaderboard, with the paired track and the degradation gallery."""

from __future__ import annotations

from pathlib import Path

from prefect import task

from faceboard.catalog import BoardFiles
from faceboard.report.html import gallery_section, paired_section, write_report


def render_report(board: BoardFiles, out: Path, paired: BoardFiles | None = None,
                  gallery_dir: Path | None = None) -> Path:
    """The report of `board`; the paired section and the gallery where they exist."""
    return write_report(board, out, paired_section(paired) if paired else None,
                        gallery_section(gallery_dir) if gallery_dir else None)


report_task = task(render_report, name="report")
