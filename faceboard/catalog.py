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
    def paired(self) -> Path:
        """The paired track: HQ faces, their synthetic LQ, each method's outputs scored against HQ."""
        return self.data / "paired"

    @property
    def paired_hq(self) -> Path:
        """Built-in HQ faces `<name>.png`, `sources.json`, `landmarks.csv` (detected on the HQ faces)."""
        return self.paired / "hq"

    @property
    def paired_degraded(self) -> Path:
        """Synthetic LQ faces `lq/<Subset>/<name>.png` and their sampled parameters `degradation.parquet`."""
        return self.paired / "degraded"

    @property
    def paired_gallery(self) -> Path:
        """Every preset on every HQ face: `hq/` and `<preset>/`, each `<Subset>/<name>.png`."""
        return self.paired / "gallery"

    def paired_method(self, method: str) -> Path:
        """A method on the synthetic LQ: `restored/`, `per_image.parquet` and `provenance.json` against HQ."""
        return self.paired / "methods" / method

    @property
    def paired_leaderboard_dir(self) -> Path:
        """`leaderboard.parquet` (one row per method), `per_image.parquet`, `run.json`."""
        return self.paired / "leaderboard"

    @property
    def paired_leaderboard(self) -> Path:
        return self.paired_leaderboard_dir / "leaderboard.parquet"

    @property
    def cache(self) -> Path:
        """Reusable intermediate results (LQ embeddings); never a DVC output."""
        return self.data / "cache"

    def downloads(self, name: str) -> Path:
        """A dataset's downloaded files and archives, kept to resume and to rebuild without the network."""
        return self.cache / "downloads" / name
