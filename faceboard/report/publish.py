"""Publishing a built leaderboard: a copy of the report for readers, and a short ranking summary."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from faceboard.catalog import BoardFiles
from faceboard.files import write_bytes_atomic


def copy_report(report: Path, board: BoardFiles, folder: Path) -> list[Path]:
    """Copy the HTML report and the run's run.json into `folder` (atomically, so a reader never sees half)."""
    copied = []
    for source in (report, board.run_info):
        target = Path(folder) / source.name
        write_bytes_atomic(target, source.read_bytes())
        copied.append(target)
    return copied


def ranking_markdown(board: BoardFiles, report: Path) -> str:
    """The overall ranking as a Markdown table (valid methods by rank, then the invalid ones), and where the
    report is."""
    table = pd.read_parquet(board.leaderboard)
    overall = table[table["subset"] == "all"].sort_values(["valid", "rank", "method"], ascending=[False, True, True])
    lines = ["| rank | method | score | valid | comparable |", "| --- | --- | --- | --- | --- |"]
    for row in overall.itertuples():
        rank = "" if pd.isna(row.rank) else int(row.rank)
        score = "" if pd.isna(row.score) else f"{row.score:.4f}"
        lines.append(f"| {rank} | {_cell(row.method)} | {score} | {'yes' if row.valid else 'no'} | "
                     f"{'yes' if row.comparable_to_official else 'no'} |")
    return "\n".join([f"Report: `{report}`", "", *lines])


def _cell(text: str) -> str:
    """A Markdown table cell: pipes and line breaks escaped, HTML brackets as entities."""
    return str(text).replace("|", "\\|").replace("\n", " ").replace("<", "&lt;").replace(">", "&gt;")
