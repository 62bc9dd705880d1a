"""What a failed image counts as in the quality means (params.yaml `score.failed_images`).

A value is missing when the image failed (no output, unreadable, wrong size, a crashed method) or a metric
failed on it. Under `worst` each missing value is charged the worst value of that metric on the whole board:
over every method's outputs and every LQ input (`lq_<metric>`), in every subset. That is never better than
the image's LQ input, any method's output for it, or the method's own worst face; withholding an output can
only help a method whose withheld face is worse than every face on the board, LQ inputs included.
Under `drop` the value stays missing and the means skip it (not comparable). FID's counterpart (the LQ
input's features stand in) is computed with the scores (set_metrics.json).
"""

from __future__ import annotations

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
            out.loc[missing, metric] = board_worst(per_image, metric)
        charged[metric] = (missing & out[metric].notna()).to_numpy()
    out[CHARGED] = [",".join(m for m, rows in charged.items() if rows[i]) for i in range(len(out))]
    return out


def board_worst(per_image: pd.DataFrame, metric: str) -> float:
    """The worst value of `metric` over every output and LQ input on the board (NaN if there is none)."""
    columns = [c for c in (metric, LQ_PREFIX + metric) if c in per_image]
    values = per_image[columns].stack().dropna()
    if values.empty:
        return float("nan")
    return float(values.max() if METRICS[metric].lower_better else values.min())
