"""The paired track: each method on synthetic LQ faces, scored against their HQ faces with full-reference metrics."""

from __future__ import annotations

import json

import pandas as pd

from faceboard.report.sources import Sources


def load(src: Sources) -> dict | None:
    if not src.has_paired:
        return None
    run = json.loads(src.paired.run_info.read_text())
    table = pd.read_parquet(src.paired.leaderboard)
    arrows = {m: ("↓" if lower else "↑") for m, lower in run["lower_better"].items()}
    return {**run, "rows": table.to_dict("records"), "arrows": arrows}
