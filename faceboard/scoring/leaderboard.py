"""Per-image table -> leaderboard rows: ID gate, per-subset and overall means, score, validity, rank.

Means run over every image of a row: values a failed image was charged (faceboard.scoring.charge)
included, values still missing (policy `drop`) left out.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from faceboard.identity.gate import id_pass
from faceboard.metrics.table import METRICS
from faceboard.protocol import ScoreTerm
from faceboard.scoring.formula import is_valid, score

ALL = "all"
_SET_METRICS = {name for name, spec in METRICS.items() if spec.set_metric}


@dataclass(frozen=True)
class Gate:
    """How identity was gated: at most `limit` failures per method (the params' `max_failures` of
    `failures_per`, scaled to the dataset); `backbone=None` means the gate was not run (no LQ reference)."""

    backbone: str | None
    thresholds: Mapping[str, float]
    limit: int
    official: bool = False


def apply_gate(per_image: pd.DataFrame, gate: Gate) -> pd.DataFrame:
    """Add `id_threshold` and `id_pass`; an image that failed to process fails the gate."""
    out = per_image.copy()
    if gate.backbone is None:
        out["id_threshold"] = np.nan
        out["id_pass"] = pd.array([pd.NA] * len(out), dtype="boolean")
        return out
    unknown = sorted(set(out["subset"]) - set(gate.thresholds))
    if unknown:
        raise KeyError(f"no ID threshold for subset(s) {unknown} with backbone {gate.backbone!r}; "
                       f"known: {sorted(gate.thresholds)} (add them in params.yaml)")
    out["id_threshold"] = out["subset"].map(gate.thresholds).astype(float)
    out["id_pass"] = pd.array(id_pass(out["id_sim"].to_numpy(float), out["id_threshold"].to_numpy()), dtype="boolean")
    return out


def failed_rows(per_image: pd.DataFrame) -> pd.DataFrame:
    """The gated rows of images that failed to process or failed the identity gate."""
    return per_image[(per_image["status"] == "failed") | (per_image["id_pass"] == False)]


def summarise(
    per_image: pd.DataFrame,
    metrics: list[str],
    gate: Gate,
    terms: Mapping[str, ScoreTerm],
    set_metrics: Mapping[str, Mapping[str, float]] | None = None,
    not_comparable: Mapping[str, Sequence[str]] | None = None,
) -> pd.DataFrame:
    """One row per (method, subset) plus (method, `all`); `per_image` must already be gated and charged.

    `set_metrics[method]` holds metrics computed over a method's whole output set (FID); they
    enter only the `all` row. `not_comparable[method]` lists why the method's scores are not
    comparable to the official ones (faceboard.scoring.comparability); a method without an entry
    counts as unchecked, hence not comparable.
    """
    rows = []
    for method, frame in per_image.groupby("method", sort=True):
        failures = _id_failures(frame, gate)
        valid = is_valid(failures, gate.limit) if gate.backbone else None
        reasons = (not_comparable or {}).get(method, ["comparability not checked"])
        groups = [(s, g) for s, g in frame.groupby("subset", sort=True)]
        if [s for s, _ in groups] != [ALL]:
            groups.append((ALL, frame))
        for subset, part in groups:
            extra = (set_metrics or {}).get(method, {}) if subset == ALL else {}
            rows.append(_row(method, subset, part, metrics, gate, terms, extra, valid, reasons))
    table = pd.DataFrame(rows)
    return _rank(table)


def _row(method, subset, part, metrics, gate, terms, extra, valid, reasons) -> dict:
    means = {m: float(part[m].mean()) if m in part and part[m].notna().any() else np.nan for m in metrics}
    means.update(extra)
    total, used = score(means, terms)
    # a computed term without a value here (terms never computed are the comparability reasons' business);
    # set metrics (FID) exist for the `all` row only
    missing = [t for t in terms if t in means and t not in used and (subset == ALL or t not in _SET_METRICS)]
    why = [*reasons, *([f"no value in this row for {', '.join(missing)}"] if missing else [])]
    if not gate.official and not why:
        why.append("identity gate is not the official one")
    measured = part[part["status"] == "ok"]["id_sim"]
    return {
        "method": method,
        "subset": subset,
        "n_images": len(part),
        "n_failed": int((part["status"] != "ok").sum()),
        **means,
        "id_sim_mean": float(measured.mean()) if measured.notna().any() else np.nan,
        "id_failures": _id_failures(part, gate),
        "id_failure_limit": gate.limit if gate.backbone else None,
        "valid": valid,
        "score": total,
        "score_terms": ",".join(used),
        "id_backbone": gate.backbone or "not run",
        "comparable_to_official": not why,
        "not_comparable_because": "; ".join(why),
    }


def _id_failures(frame: pd.DataFrame, gate: Gate) -> int | None:
    if gate.backbone is None:
        return None
    return int((~frame["id_pass"].fillna(False)).sum())


def _rank(table: pd.DataFrame) -> pd.DataFrame:
    """Rank methods by overall score, valid ones only (rank is NA elsewhere); ties share a rank."""
    overall = table[(table["subset"] == ALL) & (table["valid"] == True) & table["score"].notna()]
    ranks = overall.set_index("method")["score"].rank(method="min", ascending=False).astype(int)
    table["rank"] = pd.array(table["method"].map(ranks), dtype="Int64")
    return table.sort_values(["rank", "method", "subset"], na_position="last", kind="stable").reset_index(drop=True)
