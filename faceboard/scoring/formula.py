"""The challenge score: a sum of per-metric terms (the protocol's, or params.yaml `score.terms`) and the ID validity rule."""

from __future__ import annotations

import math
from collections.abc import Mapping

from faceboard.protocol import ScoreTerm


def score(values: Mapping[str, float], terms: Mapping[str, ScoreTerm]) -> tuple[float, list[str]]:
    """Sum the terms whose metric has a finite value; return (score, the metric names used).

    Missing terms are left out, never counted as zero: the caller reports which were used.
    The score is NaN when no term is available.
    """
    used = [name for name in terms if _finite(values.get(name))]
    if not used:
        return math.nan, []
    return sum(terms[name].value(float(values[name])) for name in used), used


def is_valid(id_failures: int, max_failures: int) -> bool:
    """A method is ranked only when at most `max_failures` images fail the identity test."""
    return id_failures <= max_failures


def _finite(x: object) -> bool:
    return isinstance(x, (int, float)) and math.isfinite(x)
