"""The per-image identity test: cosine similarity against a per-subset threshold."""

from __future__ import annotations

import numpy as np


def cosine_similarity(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Row-wise cosine of (N, D) arrays (a (D,) pair gives a 0-d array); zero rows give NaN."""
    a = np.asarray(a, dtype=np.float64)
    b = np.asarray(b, dtype=np.float64)
    if a.shape != b.shape:
        raise ValueError(f"shape mismatch: {a.shape} vs {b.shape}")
    with np.errstate(invalid="ignore", divide="ignore"):
        a = a / np.linalg.norm(a, axis=-1, keepdims=True)
        b = b / np.linalg.norm(b, axis=-1, keepdims=True)
    return np.sum(a * b, axis=-1)


def id_pass(similarities: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """Per image: similarity at or above its subset's threshold (NaN fails)."""
    return np.asarray(similarities, dtype=np.float64) >= np.asarray(thresholds, dtype=np.float64)
