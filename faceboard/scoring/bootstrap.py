"""Confidence on every score and rank: a seeded, paired, stratified bootstrap over images.

Each resample draws, within each subset, as many images as the subset has, with replacement; the same
draw serves every method (all methods score the same images), so comparisons between methods are paired.
A resample's means are the count-weighted means of the drawn images (values still missing under the
`drop` policy left out, as in the point estimate), its score uses the terms the point estimate used
(`score_terms`), and its identity failures are the drawn images that fail the gate. Set metrics (FID)
are one value over a method's whole output set, which a resample of per-image rows cannot redraw: they
are held fixed at their value in every resample and get no interval (NaN), so score intervals carry
no FID uncertainty.

Added to the leaderboard, per row: `<metric>_ci_low/_ci_high` and `score_ci_low/_ci_high` (percentile
intervals), `p_valid` (share of resamples within the failure limit; NA without a gate) and, on the
ranked `all` rows, `separable_from_next`. The long `pairwise` table holds, for each ordered pair of
ranked methods, the share of resamples in which A's score exceeds B's (ties count half).

Everything runs on a resample x image count matrix (numpy, no loop over resamples).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import TYPE_CHECKING

import numpy as np
import pandas as pd

from faceboard.metrics.table import METRICS
from faceboard.scoring.leaderboard import ALL

if TYPE_CHECKING:
    from faceboard.config import BootstrapConfig
    from faceboard.protocol import ScoreTerm

#: Two resampled scores this close (relative) are a tie: summation order must not decide who wins.
TIE_RTOL = 1e-12
PAIRWISE_COLUMNS = ["method_a", "method_b", "p_a_beats_b"]


def record(config: BootstrapConfig, seed: int) -> dict:
    """What run.json says about the bootstrap."""
    set_metrics = ", ".join(name for name, spec in METRICS.items() if spec.set_metric)
    return {
        "resamples": config.resamples,
        "confidence": config.confidence,
        "seed": seed,
        "resampling": "images with replacement within each subset (stratified), the same draw for every method (paired)",
        "interval": "percentile",
        "set_metrics": f"{set_metrics}: held fixed at the method's value in every resample; its interval columns are "
                       "NaN (no interval is estimated) and score intervals carry no uncertainty from it",
        "p_valid": "share of resamples in which the method's identity failures stay at or under id_failure_limit",
        "separable_from_next": f"the method ranked just below is beaten in at least {config.confidence:.0%} of "
                               "resamples (ties count half); NA for unranked methods and the last ranked one",
    }


def resample_counts(sizes: Sequence[int], resamples: int, rng: np.random.Generator) -> list[np.ndarray]:
    """Per stratum of `sizes[s]` images, a (resamples, sizes[s]) matrix: how often each image is drawn.

    Each row comes from a row of indices drawn with replacement, as many as the stratum holds."""
    counts = []
    for n in sizes:
        drawn = rng.integers(0, n, size=(resamples, n))
        flat = (drawn + np.arange(resamples)[:, None] * n).ravel()
        counts.append(np.bincount(flat, minlength=resamples * n).reshape(resamples, n).astype(np.float64))
    return counts


def confidence(
    per_image: pd.DataFrame,
    table: pd.DataFrame,
    metrics: Sequence[str],
    terms: Mapping[str, ScoreTerm],
    config: BootstrapConfig,
    seed: int,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(`table` with the interval, `p_valid` and `separable_from_next` columns, the pairwise table).

    `per_image` is the gated, charged rows `table` was summarised from (faceboard.scoring.leaderboard)."""
    resampled = [m for m in metrics if m in per_image.columns]
    keys = pd.MultiIndex.from_frame(per_image[["subset", "image"]].drop_duplicates().sort_values(["subset", "image"]))
    subsets, sizes = np.unique(keys.get_level_values("subset").to_numpy(str), return_counts=True)
    bounds = dict(zip(subsets, zip(np.r_[0, np.cumsum(sizes)[:-1]], np.cumsum(sizes), strict=True), strict=True))
    counts = dict(zip(subsets, resample_counts(sizes, config.resamples, np.random.default_rng(seed)), strict=True))

    sums = {method: _resampled_sums(frame, keys, resampled, counts, bounds)
            for method, frame in per_image.groupby("method", sort=True)}
    quantiles = [(1 - config.confidence) / 2, (1 + config.confidence) / 2]
    n_metrics = len(resampled)
    columns: dict[str, list] = {c: [] for m in metrics for c in (f"{m}_ci_low", f"{m}_ci_high")}
    columns.update(score_ci_low=[], score_ci_high=[], p_valid=[])
    scores = {}
    for row in table.to_dict("records"):
        method_sums = sums[row["method"]]
        total = method_sums[ALL] if row["subset"] == ALL else method_sums[row["subset"]]
        with np.errstate(invalid="ignore", divide="ignore"):
            means = dict(zip(resampled, (total[:, :n_metrics] / total[:, n_metrics:2 * n_metrics]).T, strict=True))
        score = _resampled_score(means, row, terms, config.resamples)
        if row["subset"] == ALL:
            scores[row["method"]] = score
        samples = np.column_stack([means.get(m, np.full(config.resamples, np.nan)) for m in metrics] + [score])
        low, high = _interval(samples, quantiles)
        for i, m in enumerate([*metrics, "score"]):
            columns[f"{m}_ci_low"].append(low[i])
            columns[f"{m}_ci_high"].append(high[i])
        limit = row["id_failure_limit"]
        failures = method_sums[ALL][:, -1]
        columns["p_valid"].append(pd.NA if pd.isna(limit) else float(np.mean(failures <= limit)))

    out = table.copy()
    for name, values in columns.items():
        out[name] = pd.array(values, dtype="Float64") if name == "p_valid" else np.asarray(values, dtype=np.float64)
    ranked = table[(table["subset"] == ALL) & table["rank"].notna()].sort_values(["rank", "method"], kind="stable")
    order = list(ranked["method"])
    beats = _beats(np.column_stack([scores[m] for m in order])) if order else np.zeros((0, 0))
    pairwise = pd.DataFrame([(a, b, float(beats[i, j])) for i, a in enumerate(order) for j, b in enumerate(order)
                             if i != j], columns=PAIRWISE_COLUMNS).astype({"p_a_beats_b": np.float64})
    separable = pd.array([pd.NA] * len(out), dtype="boolean")
    for i, index in enumerate(ranked.index[:-1]):
        separable[out.index.get_loc(index)] = bool(beats[i, i + 1] >= config.confidence)
    out["separable_from_next"] = separable
    return out, pairwise


def _resampled_sums(frame: pd.DataFrame, keys: pd.MultiIndex, resampled: Sequence[str],
                    counts: Mapping[str, np.ndarray], bounds: Mapping[str, tuple[int, int]]) -> dict[str, np.ndarray]:
    """{subset or `all`: (resamples, 2P + 1)}: per resample, the sums of each metric's values, the numbers of
    values counted, and the identity failures, over the drawn images."""
    aligned = frame.set_index(["subset", "image"]).reindex(keys)
    values = aligned[list(resampled)].to_numpy(np.float64, na_value=np.nan)
    finite = np.isfinite(values)
    present = aligned["status"].notna().to_numpy()  # an image the method has no row for is no failure
    passed = aligned["id_pass"].astype("boolean").fillna(False).to_numpy(bool)
    stacked = np.column_stack([np.where(finite, values, 0.0), finite, present & ~passed])
    out = {subset: counts[subset] @ stacked[start:stop] for subset, (start, stop) in bounds.items()}
    out[ALL] = sum(out.values())
    return out


def _resampled_score(means: Mapping[str, np.ndarray], row: Mapping, terms: Mapping[str, ScoreTerm],
                     resamples: int) -> np.ndarray:
    """Per resample, the sum of the row's `score_terms`; a term no resample redraws (a set metric) keeps
    the row's value."""
    used = [t for t in str(row["score_terms"] or "").split(",") if t]
    if not used:
        return np.full(resamples, np.nan)
    total = np.zeros(resamples)
    for name in used:
        x = means[name] if name in means else np.full(resamples, float(row[name]))
        total += _term(terms[name], x)
    return total


def _term(term: ScoreTerm, x: np.ndarray) -> np.ndarray:
    """ScoreTerm.value over an array."""
    if term.scale is not None:
        return term.scale * x
    return np.maximum(0.0, (term.headroom - x) / term.headroom)


def _interval(samples: np.ndarray, quantiles: Sequence[float]) -> tuple[np.ndarray, np.ndarray]:
    """Per column of (resamples, K) samples, the percentile interval; NaN for a column without values."""
    low, high = np.full(samples.shape[1], np.nan), np.full(samples.shape[1], np.nan)
    finite = np.isfinite(samples)
    whole = finite.all(axis=0)
    if whole.any():
        low[whole], high[whole] = np.quantile(samples[:, whole], quantiles, axis=0)
    for k in np.flatnonzero(~whole & finite.any(axis=0)):  # `drop` only: a resample that drew no value
        low[k], high[k] = np.quantile(samples[finite[:, k], k], quantiles)
    return low, high


def _beats(scores: np.ndarray) -> np.ndarray:
    """(K, K): share of resamples (rows of `scores`, one column per method) in which i's score exceeds j's,
    ties counting half, over the resamples where both have a score."""
    a, b = scores[:, :, None], scores[:, None, :]
    diff = a - b
    tie = np.abs(diff) <= TIE_RTOL * np.maximum(np.abs(a), np.abs(b))
    win = (diff > 0) & ~tie
    both = np.isfinite(diff).sum(axis=0)
    with np.errstate(invalid="ignore", divide="ignore"):
        return (win.sum(axis=0) + 0.5 * tie.sum(axis=0)) / both
