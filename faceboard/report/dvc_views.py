"""What `dvc metrics show` and `dvc plots show` display: each method's overall score, rank and score terms
(reports/metrics.json), and the score-terms plot as a standalone SVG (an image plot: it renders offline)."""

from __future__ import annotations

import json
from pathlib import Path

from faceboard.catalog import BoardFiles
from faceboard.files import write_bytes_atomic
from faceboard.report.page import environment
from faceboard.report.publish import ranking_rows
from faceboard.report.sections.plots import score_terms, terms_plot
from faceboard.report.sources import Sources


def metrics(board: BoardFiles, src: Sources) -> dict:
    """{method: {score, rank, valid, <metric>_term...}} of the overall rows (null where there is none)."""
    terms = score_terms(src)
    return {r["method"]: {"score": r["score"], "rank": r["rank"], "valid": r["valid"],
                          **{f"{t}_term": round(v, 6) for t, v in terms[r["method"]].items()}}
            for r in ranking_rows(board)}


def write(board: BoardFiles, metrics_path: Path, plot_path: Path) -> tuple[Path, Path]:
    src = Sources(board)
    write_bytes_atomic(metrics_path, (json.dumps(metrics(board, src), indent=1, sort_keys=True) + "\n").encode())
    svg = environment().get_template("score_terms.svg").render(plot=terms_plot(src))
    write_bytes_atomic(plot_path, svg.strip().encode() + b"\n")
    return metrics_path, plot_path

