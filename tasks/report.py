"""Stage `report`: the static HTML leaderboard, with the paired track and the degradation gallery."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import task

from faceboard.report.html import gallery_section, paired_section, write_report


def render_report(leaderboard_dir: Path, out: Path, paired_dir: Path | None = None,
                  gallery_dir: Path | None = None) -> Path:
    """The report of `leaderboard_dir`; the paired section and the gallery where their folders exist."""
    run = json.loads((leaderboard_dir / "run.json").read_text())
    return write_report(leaderboard_dir / "leaderboard.parquet", leaderboard_dir / "per_image.parquet", run, out,
                        paired_section(paired_dir) if paired_dir else None,
                        gallery_section(gallery_dir) if gallery_dir else None)


report_task = task(render_report, name="report")
