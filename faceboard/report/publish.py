"""Publishing a built leaderboard: the overall ranking as rows and as Markdown (Prefect artifacts), and a copy of
the page for readers."""

from __future__ import annotations

from pathlib import Path

from faceboard.catalog import BoardFiles
from faceboard.files import write_bytes_atomic
from faceboard.report.sources import Sources, missing

SUMMARY_KEY = "faceboard-leaderboard"  # stable keys: the Prefect UI keeps every run's version under them
TABLE_KEY = "faceboard-leaderboard-table"


def copy_report(report: Path, board: BoardFiles, folder: Path) -> list[Path]:
    """Copy the HTML report and the run's run.json into `folder` (atomically, so a reader never sees half)."""
    copied = []
    for source in (report, board.run_info):
        target = Path(folder) / source.name
        write_bytes_atomic(target, source.read_bytes())
        copied.append(target)
    return copied


def ranking_rows(board: BoardFiles) -> list[dict]:
    """The overall rows, ranked methods by rank then the others: rank, method, score and its interval, validity,
    comparability, and each metric's mean."""
    src = Sources(board)
    rows = []
    for r in src.overall.to_dict("records"):
        row = {"rank": None if missing(r["rank"]) else int(r["rank"]), "method": r["method"],
               "score": _round(r["score"]), "score_ci_low": _round(r.get("score_ci_low")),
               "score_ci_high": _round(r.get("score_ci_high")),
               "valid": None if missing(r["valid"]) else bool(r["valid"]),
               "comparable": bool(r["comparable_to_official"]), "id_failures": r["id_failures"]}
        rows.append({**row, **{m: _round(r.get(m)) for m in src.metrics}})
    return rows


def ranking_markdown(board: BoardFiles, report: Path) -> str:
    """The overall ranking as a Markdown table (valid methods by rank, then the invalid ones), and where the
    report is."""
    lines = ["| rank | method | score | valid | comparable |", "| --- | --- | --- | --- | --- |"]
    for row in ranking_rows(board):
        rank = "" if row["rank"] is None else row["rank"]
        score = "" if row["score"] is None else f"{row['score']:.4f}"
        lines.append(f"| {rank} | {_cell(row['method'])} | {score} | {'yes' if row['valid'] else 'no'} | "
                     f"{'yes' if row['comparable'] else 'no'} |")
    return "\n".join([f"Report: `{report}`", "", *lines])


def _round(value: object) -> float | None:
    return None if missing(value) else round(float(value), 6)


def _cell(text: str) -> str:
    """A Markdown table cell: pipes and line breaks escaped, HTML brackets as entities."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")
