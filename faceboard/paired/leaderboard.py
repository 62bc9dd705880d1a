"""The paired leaderboard: per method, the mean of each metric over its scored images."""

from __future__ import annotations

import math

import pandas as pd

from faceboard.paired.metrics import lower_better


def summarise(per_image: pd.DataFrame, metrics: list[str], methods: list[str]) -> pd.DataFrame:
    """One row per method (in `methods` order): image counts and each metric's mean over its `ok` images.

    A mean skips images where a metric has no value; a metric with no value at all is NaN.
    """
    rows = []
    for method in methods:
        group = per_image[per_image["method"] == method]
        ok = group[group["status"] == "ok"]
        row = {"method": method, "n_images": len(group), "n_failed": int((group["status"] != "ok").sum())}
        for metric in metrics:
            row[metric] = float(ok[metric].mean()) if metric in ok and ok[metric].notna().any() else math.nan
        rows.append(row)
    return pd.DataFrame(rows, columns=["method", "n_images", "n_failed", *metrics])


def best(table: pd.DataFrame, metrics: list[str]) -> dict[str, str | None]:
    """The best method per metric, by the metric's direction (None when no method has a value)."""
    out: dict[str, str | None] = {}
    for metric in metrics:
        values = table.set_index("method")[metric].dropna()
        out[metric] = None if values.empty else str(values.idxmin() if lower_better(metric) else values.idxmax())
    return out
