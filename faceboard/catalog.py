"""The catalog: where every artefact of a run lives, relative to the project root.

dvc.yaml names the same paths; tests/test_dvc_pipeline.py checks they agree.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path


@dataclass(frozen=True)
class ScoreFiles:
    """One method's scores: a `score` stage's output, or `faceboard score`'s `OUT/scores/<method>`."""

    folder: Path

    @property
    def per_image(self) -> Path:
        """One row per image: status, error, `id_sim`, each metric, and `lq_<metric>` (the LQ input's value)
        where the output has none."""
        return self.folder / "per_image.parquet"

    @property
    def provenance(self) -> Path:
        """Dataset, metrics, backbone, weights with hashes, versions."""
        return self.folder / "provenance.json"

    @property
    def set_metrics(self) -> Path:
        """One value per set metric (FID) over the method's outputs, and with LQ stand-ins for failed ones."""
        return self.folder / "set_metrics.json"


@dataclass(frozen=True)
class BoardFiles:
    """A built leaderboard: the DAG's `data/leaderboard`, or `faceboard score`'s OUT."""

    folder: Path

    @property
    def leaderboard(self) -> Path:
        """One row per (method, subset) and (method, `all`): means, score, validity, rank, comparability."""
        return self.folder / "leaderboard.parquet"

    @property
    def per_image(self) -> Path:
        """Every method's per-image rows, gated, with the failed-image charges marked (`charged`)."""
        return self.folder / "per_image.parquet"

    @property
    def run_info(self) -> Path:
        """The rules applied, metrics, backbones, weight hashes, versions, comparability."""
        return self.folder / "run.json"

    @property
    def pairwise(self) -> Path:
        """Per ordered pair of ranked methods, the share of bootstrap resamples in which A's score beats B's."""
        return self.folder / "pairwise.parquet"

    @property
    def thumbnails(self) -> Path:
        """The gallery's thumbnails (faceboard.report.thumbnails), so the page needs no image file."""
        return self.folder / "thumbnails.parquet"

    @property
    def page(self) -> Path:
        """`faceboard score`: the board's HTML page (the DAG's is `Catalog.report`)."""
        return self.folder / "leaderboard.html"

    @property
    def lock(self) -> Path:
        """`faceboard score`: held while it writes this folder (faceboard.runlock)."""
        return self.folder / ".faceboard.lock"

    def scores(self, method: str) -> ScoreFiles:
        """`faceboard score` keeps the submission's scores beside its board."""
        return ScoreFiles(self.folder / "scores" / method)

    @property
    def submission_report(self) -> Path:
        """`faceboard score`: what the submission held (missing, extra, ignored files), landmarks, failures."""
        return self.folder / "report.json"


@dataclass(frozen=True)
class Catalog:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    def dataset(self, name: str) -> Path:
        """A fetched dataset: `lq/<Subset>/*.png`, `landmarks.csv`, `manifest.json`."""
        return self.data / "datasets" / name

    def dataset_lq(self, name: str) -> Path:
        """A fetched dataset's LQ images, `<Subset>/<name>.png`."""
        return self.dataset(name) / "lq"

    def restored(self, method: str) -> Path:
        """A method's outputs: `<Subset>/<name>.png` plus `restore_log.parquet`."""
        return self.data / "restored" / method

    def scores(self, method: str) -> ScoreFiles:
        """A method's per-image scores."""
        return ScoreFiles(self.data / "scores" / method)

    @property
    def board(self) -> BoardFiles:
        return BoardFiles(self.data / "leaderboard")

    @property
    def report(self) -> Path:
        return self.root / "reports" / "leaderboard.html"

    @property
    def report_metrics(self) -> Path:
        """Overall score and terms per method, for `dvc metrics show`."""
        return self.root / "reports" / "metrics.json"

    @property
    def report_plot(self) -> Path:
        """The score-terms plot (SVG), for `dvc plots show`."""
        return self.root / "reports" / "plots" / "score_terms.svg"

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
        """A method on the synthetic LQ: `restored/` and its scores against HQ (`paired_scores`)."""
        return self.paired / "methods" / method

    def paired_scores(self, method: str) -> ScoreFiles:
        return ScoreFiles(self.paired_method(method))

    @property
    def paired_board(self) -> BoardFiles:
        """The paired leaderboard: one row per method, every method's per-image rows, the run record."""
        return BoardFiles(self.paired / "leaderboard")

    def gate_calibration(self, backbone: str) -> Path:
        """The committed calibration table of a non-official ID backbone (faceboard.identity.calibration),
        from which params.yaml's `id_threshold.<backbone>` values come."""
        return self.data / "calibration" / f"{backbone}.csv"

    def calibration_restored(self, dataset: str, method: str) -> Path:
        """A method's outputs on a dataset, restored for a gate calibration (resumable, never a DVC output)."""
        return self.cache / "calibration" / dataset / method

    @property
    def cache(self) -> Path:
        """Reusable intermediate results (LQ embeddings); never a DVC output."""
        return self.data / "cache"

    @property
    def run_lock(self) -> Path:
        """Held by the run writing this project (faceboard.runlock); git-ignored."""
        return self.root / ".faceboard" / "run.lock"

    def downloads(self, name: str) -> Path:
        """A dataset's downloaded files and archives, kept to resume and to rebuild without the network."""
        return self.cache / "downloads" / name
