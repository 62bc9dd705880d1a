"""Two plots of the overall rows: each method's score split into its terms, and quality against identity."""

from __future__ import annotations

from faceboard.protocol import ScoreTerm
from faceboard.report import svg
from faceboard.report.sources import Sources, arrow
from faceboard.scoring.formula import contributions, finite

#: the quality axis of the scatter: the first of these the board has
QUALITY_AXIS = ("musiq", "clipiqa", "maniqa", "qalign", "niqe")


def load(src: Sources) -> dict | None:
    if src.overall.empty:
        return None
    quality = next((m for m in (*QUALITY_AXIS, *src.metrics) if m in src.metrics), None)
    points = [(r["method"], float(r["id_sim_mean"]), float(r[quality])) for r in src.overall.to_dict("records")
              if quality and finite(r["id_sim_mean"]) and finite(r.get(quality))]
    return {"terms": terms_plot(src), "quality": quality,
            "scatter": svg.scatter(points, "mean ID similarity ↑", f"{quality} {arrow(quality)}") if points else None}


def terms_plot(src: Sources) -> dict:
    """The stacked-bar geometry of each method's score terms (overall), ranked methods first."""
    return svg.stacked_bars([(method, parts) for method, parts in score_terms(src).items()], src.run["score_terms_used"])


def score_terms(src: Sources) -> dict[str, dict[str, float]]:
    """{method: {metric: its term of the overall score}}, in the ranking's order."""
    rules = {name: ScoreTerm(**spec) for name, spec in src.run["rules"]["score_terms"].items()}
    return {r["method"]: contributions(r, rules) for r in src.overall.to_dict("records")}

