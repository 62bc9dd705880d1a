"""The catalog: where every artefact of a run lives, relative to the project root.

dvc.yaml names the same paths; tests/test_dvc_pipeline.py checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class Catalog:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dataset(self, name: str) -> Path:
        """A fetched dataset: `lq/<Subset>/*.png`, `landmarks.csv`, `manifest.json`."""
        return self.data / "datasets" / name

    def restored(self, method: str) -> Path:
        """A method's outputs: `<Subset>/<name>.png` plus `restore_log.parquet`."""
        return self.data / "restored" / method

    def scores(self, method: str) -> Path:
        """A method's per-image scores: `per_image.parquet` and `provenance.json`."""
        return self.data / "scores" / method

    @property
    def leaderboard_dir(self) -> Path:
        return self.data / "leaderboard"

    @property
    def leaderboard(self) -> Path:
        return self.leaderboard_dir / "leaderboard.parquet"

    @property
    def per_image(self) -> Path:
        return self.leaderboard_dir / "per_image.parquet"

    @property
    def run_info(self) -> Path:
        return self.leaderboard_dir / "run.json"

    @property
    def report(self) -> Path:
        return self.root / "reports" / "leaderboard.html"

    @property
    def cache(self) -> Path:
        """Reusable intermediate results (LQ embeddings); never a DVC output."""
        return self.data / "cache"
