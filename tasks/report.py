"""Stage `report`: the static HTML leaderboard."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import task

from faceboard.report.html import write_report


def render_report(leaderboard_dir: Path, out: Path) -> Path:
    run = json.loads((leaderboard_dir / "run.json").read_text())
    return write_report(leaderboard_dir / "leaderboard.parquet", leaderboard_dir / "per_image.parquet", run, out)


report_task = task(render_report, name="report")
