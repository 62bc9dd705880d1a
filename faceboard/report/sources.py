"""What the page is built from: a board's Parquet tables and run.json, and the paired board's where there is one.
Each is read once, when a section first asks for it; nothing here loads a model or reads an image file."""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cached_property

import pandas as pd

from faceboard.catalog import BoardFiles
from faceboard.metrics.table import METRICS
from faceboard.report import thumbnails
from faceboard.scoring.leaderboard import ALL


@dataclass(frozen=True)
class Sources:
    board: BoardFiles
    paired: BoardFiles | None = None
    generated: str = ""  # when the page was built, as the header says it

    @cached_property
    def run(self) -> dict:
        return json.loads(self.board.run_info.read_text())

    @cached_property
    def table(self) -> pd.DataFrame:
        return pd.read_parquet(self.board.leaderboard)

    @cached_property
    def overall(self) -> pd.DataFrame:
        """The `all` rows, ranked methods by rank, then the others by name."""
        rows = self.table[self.table["subset"] == ALL]
        return rows.sort_values(["rank", "method"], na_position="last", kind="stable").reset_index(drop=True)

    @cached_property
    def per_image(self) -> pd.DataFrame:
        return pd.read_parquet(self.board.per_image)

    @cached_property
    def gallery(self) -> thumbnails.Gallery | None:
        return thumbnails.read(self.board.thumbnails)

    @cached_property
    def metrics(self) -> list[str]:
        return list(self.run["metrics"])

    @cached_property
    def subsets(self) -> list[str]:
        return [ALL, *sorted(set(self.table["subset"]) - {ALL})]

    @property
    def has_paired(self) -> bool:
        return self.paired is not None and self.paired.leaderboard.is_file()


def lower_better(metric: str) -> bool:
    return METRICS[metric].lower_better


def arrow(metric: str) -> str:
    return "↓" if lower_better(metric) else "↑"


def missing(value: object) -> bool:
    """None, NaN or NA: no value to show."""
    return value is None or bool(pd.isna(value))
