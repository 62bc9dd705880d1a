"""Render leaderboard.parquet + run.json into a self-contained static HTML page."""

from __future__ import annotations

import math
from pathlib import Path

import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from faceboard.metrics.table import METRICS
from faceboard.scoring.leaderboard import ALL


def render(leaderboard: pd.DataFrame, per_image: pd.DataFrame, run: dict) -> str:
    env = Environment(loader=PackageLoader("faceboard.report"), autoescape=select_autoescape(["html"]))
    env.filters["num"] = _num
    metrics = run["metrics"]
    arrows = {m: ("↓" if METRICS[m].lower_better else "↑") for m in metrics}
    overall = leaderboard[leaderboard["subset"] == ALL]
    subsets = leaderboard[leaderboard["subset"] != ALL]
    failures = per_image[(per_image["status"] == "failed") | (per_image["id_pass"] == False)]
    return env.get_template("leaderboard.html").render(
        run=run, metrics=metrics, arrows=arrows,
        overall=overall.to_dict("records"), subsets=subsets.to_dict("records"),
        failures=failures.to_dict("records"),
    )


def write_report(leaderboard_path: Path, per_image_path: Path, run: dict, out: Path) -> Path:
    html = render(pd.read_parquet(leaderboard_path), pd.read_parquet(per_image_path), run)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def _num(value: object, digits: int = 4) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)
