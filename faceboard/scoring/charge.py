"""What a failed image counts as in the quality means (params.yaml `score.failed_images`).

A value is missing when the image failed (no output, unreadable, wrong size, a crashed method) or a metric
failed on it. Under `worst` each missing value is charged the worst of: the LQ input's value for that
image (`lq_<metric>`), every method's value for that image, and the method's own worst value in that
subset (if none, in any subset; if none, the board's worst). So a failed image never scores better than
its LQ input, any other method on it, or the method's own worst face. Under `drop` it is left out.
FID's counterpart (the LQ input's features stand in) is computed with the scores (set_metrics.json).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from faceboard.metrics.table import METRICS
from faceboard.scoring.per_image import LQ_PREFIX

CHARGED = "charged"  # column: the metrics whose value in this row is a charge, not a measurement
POLICIES = ("worst", "drop")


def charge_failed(per_image: pd.DataFrame, metrics: list[str], policy: str) -> pd.DataFrame:
    """`per_image` with each missing value of `metrics` charged under `policy`, and a `charged` column."""
    if policy not in POLICIES:
        raise ValueError(f"failed_images must be one of {POLICIES}, got {policy!r}")
    out = per_image.copy()
    charged = {}
    for metric in metrics if policy == "worst" else ():
        missing = out[metric].isna()
        if missing.any():
            out[metric] = out[metric].fillna(_worst_candidates(per_image, metric))
        charged[metric] = (missing & out[metric].notna()).to_numpy()
    out[CHARGED] = [",".join(m for m, rows in charged.items() if rows[i]) for i in range(len(out))]
    return out


def _worst_candidates(frame: pd.DataFrame, metric: str) -> pd.Series:
    """Per row, the worst of the candidates the module docstring lists (NaN where there is none)."""
    worst = "max" if METRICS[metric].lower_better else "min"
    measured = frame[metric]
    by_image = measured.groupby([frame["subset"], frame["image"]]).transform(worst)
    lq = frame[LQ_PREFIX + metric] if LQ_PREFIX + metric in frame else pd.Series(np.nan, index=frame.index)
    candidates = pd.concat([lq, by_image, measured.groupby([frame["method"], frame["subset"]]).transform(worst)],
                           axis=1)
    value = candidates.max(axis=1) if worst == "max" else candidates.min(axis=1)
    fallback = measured.groupby(frame["method"]).transform(worst).fillna(getattr(measured, worst)())
    return value.fillna(fallback)
