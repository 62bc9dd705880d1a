"""Per-subset thresholds for a non-official identity backbone, from two kinds of evidence.

Impostors (the attack the gate exists for): a restorer's output of one face against the LQ input of another
person in the same subset, every such pair, each face aligned with its own landmarks (the impostor's best
case). Genuine pairs: each restorer's output against its own LQ input. Rule, per subset, on a `step` grid:
the threshold is the lowest value whose impostor false-accept rate (pooled over restorers) is at most
`far`; if that rejects more than `frr` of any tested restorer's genuine faces, it is lowered to the highest
value that rejects at most `frr` of every restorer's, and the higher false-accept rate is reported.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import pandas as pd

COLUMNS = ["subset", "threshold", "restorer", "pairs", "n", "mean", "p01", "p99", "rate"]


@dataclass(frozen=True)
class Targets:
    far: float = 0.01  # impostors accepted, at most
    frr: float = 0.01  # genuine faces of any tested restorer rejected, at most
    step: float = 0.01  # threshold grid


def person(subset: str, stem: str) -> str:
    """Identity key: the person's name where the file name encodes it (LFW-Test, CelebChild-Test), else the
    file itself (other subsets hold one face per person, as far as their names tell)."""
    if subset == "LFW-Test":  # Name_Surname_0001_00
        return re.sub(r"_\d{4}_\d{2}$", "", stem)
    if subset == "CelebChild-Test":  # 009_Name_Surname_00 (some names use spaces)
        return re.sub(r"^\d+_|_\d{2}$", "", stem).replace(" ", "_")
    return stem


def pair_similarities(lq: np.ndarray, outputs: np.ndarray, people: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """(genuine, impostor) cosines of one restorer in one subset: L2-normalised (N, D) embeddings of the LQ
    inputs and of the outputs, in the same order; impostors are every output against every other person's LQ."""
    cos = outputs @ lq.T
    different = np.array(people)[:, None] != np.array(people)[None, :]
    return np.diag(cos).copy(), cos[different]


def threshold(genuine: Mapping[str, np.ndarray], impostor: np.ndarray, targets: Targets) -> float:
    """The rule of the module docstring, for one subset."""
    grid = np.round(np.arange(-1.0, 1.0 + targets.step / 2, targets.step), 6)
    far = np.array([np.mean(impostor >= t) for t in grid])
    chosen = grid[np.argmax(far <= targets.far)]
    worst_frr = max(np.mean(g < chosen) for g in genuine.values())
    if worst_frr > targets.frr:
        allowed = [t for t in grid if all(np.mean(g < t) <= targets.frr for g in genuine.values())]
        chosen = max(allowed)
    return float(chosen)


def calibrate(lq: Mapping[str, np.ndarray], outputs: Mapping[str, Mapping[str, np.ndarray]],
              stems: Mapping[str, list[str]], targets: Targets = Targets()) -> pd.DataFrame:
    """The calibration table: per subset, its threshold, and per restorer (and pooled) the genuine and
    impostor similarity summaries with the rejection (genuine) or acceptance (impostor) rate at it.

    `lq[subset]` and `outputs[restorer][subset]` are embeddings in the order of `stems[subset]`."""
    rows = []
    for subset, names in stems.items():
        people = [person(subset, stem) for stem in names]
        pairs = {r: pair_similarities(lq[subset], by_subset[subset], people) for r, by_subset in outputs.items()}
        genuine = {r: g for r, (g, _) in pairs.items()}
        pooled = np.concatenate([i for _, i in pairs.values()])
        t = threshold(genuine, pooled, targets)
        for restorer, (g, i) in pairs.items():
            rows.append(_summary(subset, t, restorer, "genuine", g, float(np.mean(g < t))))
            rows.append(_summary(subset, t, restorer, "impostor", i, float(np.mean(i >= t))))
        rows.append(_summary(subset, t, "all", "impostor", pooled, float(np.mean(pooled >= t))))
    return pd.DataFrame(rows, columns=COLUMNS)


def thresholds(table: pd.DataFrame) -> dict[str, float]:
    """{subset: threshold} of a calibration table."""
    return {s: float(t) for s, t in table.groupby("subset", sort=False)["threshold"].first().items()}


def error_rates(table: pd.DataFrame) -> dict[str, dict]:
    """Per subset of a calibration table: its threshold, the pooled impostor false-accept rate and each
    restorer's false-reject rate at it."""
    out = {}
    for subset, rows in table.groupby("subset", sort=False):
        genuine = rows[rows["pairs"] == "genuine"]
        pooled = rows[(rows["pairs"] == "impostor") & (rows["restorer"] == "all")]
        out[subset] = {"threshold": float(rows["threshold"].iloc[0]), "false_accept": float(pooled["rate"].iloc[0]),
                       "false_reject": dict(zip(genuine["restorer"], genuine["rate"].astype(float)))}
    return out


def _summary(subset: str, t: float, restorer: str, pairs: str, values: np.ndarray, rate: float) -> dict:
    p01, p99 = np.percentile(values, [1, 99]) if len(values) else (math.nan, math.nan)
    return {"subset": subset, "threshold": t, "restorer": restorer, "pairs": pairs, "n": len(values),
            "mean": float(np.mean(values)) if len(values) else math.nan, "p01": float(p01), "p99": float(p99),
            "rate": rate}
