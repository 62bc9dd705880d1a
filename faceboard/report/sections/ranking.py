"""The ranking: one table of every (method, subset) row, shown per subset tab; ranked methods by rank, the others
below with the reason in a short phrase. Cells carry their sort value; the best value per column is marked."""

from __future__ import annotations

import pandas as pd

from faceboard.report.sources import Sources, arrow, lower_better, missing
from faceboard.scoring.leaderboard import ALL


def load(src: Sources) -> dict:
    run = src.run
    columns = [
        {"key": "rank", "label": "rank", "arrow": "", "lower": True, "digits": 0},
        {"key": "score", "label": "score", "arrow": "↑", "lower": False, "digits": 4, "best": True},
        *({"key": m, "label": m, "arrow": arrow(m), "lower": lower_better(m), "digits": 4, "best": True}
          for m in src.metrics),
        {"key": "id_sim_mean", "label": "ID sim", "arrow": "↑", "lower": False, "digits": 4, "best": True},
        {"key": "id_failures", "label": "ID failures", "arrow": "↓", "lower": True, "digits": 0},
        {"key": "p_valid", "label": "P(valid)", "arrow": "↑", "lower": False, "digits": 2},
        {"key": "n_images", "label": "images", "arrow": "", "lower": False, "digits": 0},
        {"key": "n_failed", "label": "failed", "arrow": "↓", "lower": True, "digits": 0},
    ]
    order = {m: i for i, m in enumerate(src.overall["method"])}
    table = src.table.assign(_order=src.table["method"].map(order)).sort_values(["_order", "subset"], kind="stable")
    overall = src.overall.set_index("method")
    best = _best(table, columns)
    rows = []
    for r in table.to_dict("records"):
        head = overall.loc[r["method"]]
        ranked = not missing(head["rank"])
        rows.append({
            "method": r["method"], "subset": r["subset"], "ranked": ranked,
            "why": None if ranked else why_unranked(head, run),
            "separable": r.get("separable_from_next"),
            "ci": _interval(r),
            "cells": [_cell(r, c, best.get((r["subset"], c["key"]))) for c in columns],
        })
    confidence = (run.get("bootstrap") or {}).get("confidence")
    return {"columns": columns, "rows": rows, "subsets": src.subsets, "all": ALL,
            "limit": run["rules"]["id_failure_limit"], "confidence": confidence}


def why_unranked(row: pd.Series, run: dict) -> str:
    """Why a method has no rank, in a short phrase."""
    if row["n_images"] and row["n_failed"] == row["n_images"]:
        return f"failed run: all {int(row['n_images'])} images failed"
    if missing(row["valid"]):
        return "not judged: no identity gate ran"
    if not bool(row["valid"]):
        n = int(row["id_failures"])
        return f"{n} ID failure{'s' if n != 1 else ''}, over the limit of {run['rules']['id_failure_limit']}"
    if missing(row["score"]):
        return "no score: no term computed"
    used = set(str(row["score_terms"]).split(",")) - {""}
    absent = [t for t in run["score_terms_used"] if t not in used]
    return f"not all terms: no {', '.join(absent)}" if absent else "not ranked"


def _best(table: pd.DataFrame, columns: list[dict]) -> dict[tuple[str, str], float]:
    """The best value of each marked column per subset, among ranked methods (all methods when none is)."""
    ranked = set(table.loc[(table["subset"] == ALL) & table["rank"].notna(), "method"])
    best = {}
    for subset, part in table.groupby("subset"):
        pool = part[part["method"].isin(ranked)] if ranked else part
        for c in columns:
            if c.get("best") and c["key"] in pool and pool[c["key"]].notna().any():
                values = pool[c["key"]].astype(float)
                best[(subset, c["key"])] = values.min() if c["lower"] else values.max()
    return best


def _cell(row: dict, column: dict, best: float | None) -> dict:
    value = row.get(column["key"])
    if missing(value):
        return {"v": "", "text": "–", "best": False}
    number = float(value)
    text = f"{number:.{column['digits']}f}" if column["digits"] else str(int(number))
    return {"v": repr(number), "text": text, "best": best is not None and number == best}


def _interval(row: dict) -> str | None:
    low, high = row.get("score_ci_low"), row.get("score_ci_high")
    return None if missing(low) or missing(high) else f"[{low:.4f}, {high:.4f}]"
