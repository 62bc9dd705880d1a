"""The identity gate per method and subset (failures against the limit, the similarity distribution against the
threshold) and the table of every image that failed the gate or failed to process."""

from __future__ import annotations

import math

import pandas as pd

from faceboard.report import svg
from faceboard.report.sources import Sources
from faceboard.scoring.leaderboard import failed_rows

BINS = 20


def load(src: Sources) -> dict | None:
    rules = src.run["rules"]
    if not rules.get("id_backbone"):
        return None
    frame = src.per_image
    subsets = src.subsets[1:]
    lo = _low_end(frame)
    rows = []
    for method in src.overall["method"]:
        mine = frame[frame["method"] == method]
        cells = []
        for subset in subsets:
            part = mine[mine["subset"] == subset]
            threshold = float(part["id_threshold"].iloc[0]) if len(part) else rules["id_thresholds"].get(subset)
            sims = part.loc[part["status"] == "ok", "id_sim"].astype(float).tolist()
            cells.append({"subset": subset, "n": len(part), "failures": _failures(part), "threshold": threshold,
                          "plot": svg.histogram(sims, threshold, lo, 1.0, BINS)})
        total = _failures(mine)
        rows.append({"method": method, "failures": total, "over": total > rules["id_failure_limit"], "cells": cells})
    return {"backbone": rules["id_backbone"], "limit": rules["id_failure_limit"], "n_images": rules["n_images"],
            "rule": f"{rules['max_failures']} per {rules['failures_per']} images", "subsets": subsets, "rows": rows,
            "lo": lo}


def failures(src: Sources) -> dict:
    """Every image that failed to process or failed the identity gate, with what it was charged."""
    return {"rows": failed_rows(src.per_image).to_dict("records")}


def _failures(part: pd.DataFrame) -> int:
    return int((~part["id_pass"].fillna(False).astype(bool)).sum())


def _low_end(frame: pd.DataFrame) -> float:
    """The histograms' shared left end: the lowest similarity or threshold, rounded down to a tenth (at most 0.9,
    so the range spans at least a tenth)."""
    values = [*frame["id_sim"].dropna().astype(float), *frame["id_threshold"].dropna().astype(float)]
    low = min([v for v in values if math.isfinite(v)], default=0.0)
    return min(0.9, math.floor(low * 10) / 10)
