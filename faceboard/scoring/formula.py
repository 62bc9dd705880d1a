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
    parts = contributions(values, terms)
    if not parts:
        return math.nan, []
    return sum(parts.values()), list(parts)


def contributions(values: Mapping[str, float], terms: Mapping[str, ScoreTerm]) -> dict[str, float]:
    """Each term's share of the score ({metric: term value}), for the terms whose metric has a finite value."""
    return {name: term.value(float(values[name])) for name, term in terms.items() if finite(values.get(name))}


def is_valid(id_failures: int, max_failures: int) -> bool:
    """A method is ranked only when at most `max_failures` images fail the identity test."""
    return id_failures <= max_failures


def finite(x: object) -> bool:
    """A number, and neither NaN nor infinite."""
    return isinstance(x, (int, float)) and math.isfinite(x)
