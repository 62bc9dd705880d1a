"""params.yaml: the one loader every flow, stage and command uses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from faceboard import protocol as protocols
from faceboard.env import PARAMS_FILE, find_root
from faceboard.protocol import Protocol, ScoreTerm


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class PartConfig(_Strict):
    """One piece of a dataset and where it lands in the dataset folder (`into`: a name with an
    extension is a file, otherwise a folder). `format`: `file` (one file), `zip`/`tar`/`tar.gz`
    (an archive; `select` is the folder or file inside it to keep, "" its top folder) or `files`
    (every file of the `checksums` list, fetched from `urls[0]/<path>`). `sha256` is the digest of
    the file or archive, None where none is known: the part is then reported unverified unless a
    `checksums` list (sha256sum format, a repository path) checks each file. `count`: expected images.
    """

    into: str
    urls: tuple[str, ...] = ()
    format: Literal["file", "zip", "tar", "tar.gz", "files"] = "file"
    file_name: str | None = None
    sha256: str | None = Field(None, pattern=r"^[0-9a-f]{64}$")
    checksums: str | None = None
    select: str = ""
    count: int | None = None
    note: str = ""

    @model_validator(mode="after")
    def _consistent(self) -> PartConfig:
        if self.format == "files" and not self.checksums:
            raise ValueError(f"part {self.into!r}: format `files` needs a `checksums` list")
        return self

    @property
    def is_file(self) -> bool:
        return Path(self.into).suffix != ""

    @property
    def download_name(self) -> str:
        """The file name of the download (and of the archive `--from` may hold)."""
        return self.file_name or (self.urls[0].rstrip("/").rsplit("/", 1)[-1] if self.urls else Path(self.into).name)


class SourceConfig(_Strict):
    """Where a dataset comes from: `embedded` (folder `path` in the repository), `http` (its `parts`
    downloaded), `manual` (no direct download: fetched by hand from `page`, then imported with
    `faceboard fetch NAME --from DIR`) or `weight` (a file of the weight registry, by name)."""

    type: Literal["embedded", "http", "manual", "weight"]
    path: str | None = None
    page: str | None = None
    parts: tuple[PartConfig, ...] = ()
    weight: str | None = None
    note: str = ""

    @model_validator(mode="after")
    def _complete(self) -> SourceConfig:
        field = {"embedded": "path", "weight": "weight", "http": "parts", "manual": "parts"}[self.type]
        if not getattr(self, field):
            raise ValueError(f"a `{self.type}` source needs `{field}`")
        if self.type == "http" and not all(part.urls for part in self.parts):
            raise ValueError("every part of an `http` source needs `urls`")
        return self


class SubsetConfig(_Strict):
    """One subset and its identity threshold per ID backbone; the official backbone's comes from the
    protocol unless set here (which makes the run not comparable)."""

    id_threshold: dict[str, float] = Field(default_factory=dict)


class DatasetConfig(_Strict):
    """A catalog entry. `kind`: `lq` (a benchmark: `lq/<Subset>/`, landmarks, subsets), `hq` (reference
    faces under `hq/`) or `reference` (a file such as FID statistics). `lq`/`landmarks` are paths in an
    embedded source; `landmarks: null` means none is published: they are detected at fetch.
    `fallback`: the embedded dataset that stands in when the source cannot be reached. `edition`: the
    challenge edition (faceboard.protocol) whose data this is."""

    description: str = ""
    kind: Literal["lq", "hq", "reference"] = "lq"
    source: SourceConfig
    lq: str = "lq"
    landmarks: str | None = "landmarks.csv"
    image_size: int = 512
    subsets: dict[str, SubsetConfig] = Field(default_factory=dict)
    fallback: str | None = None
    edition: str | None = None
    licence: str = ""

    @model_validator(mode="after")
    def _benchmark_complete(self) -> DatasetConfig:
        if self.kind == "lq" and not self.subsets:
            raise ValueError("an `lq` dataset needs its `subsets`")
        provided = {part.into for part in self.source.parts}
        if self.kind == "lq" and self.source.parts and self.landmarks and "landmarks.csv" not in provided:
            raise ValueError("no part provides landmarks.csv: add one, or set `landmarks: null` to detect them")
        return self


class MethodConfig(_Strict):
    """A leaderboard entry: a registered method `type`, its options, and how long one call may take.

    With `timeout_s` the method runs in a worker process that is killed when loading, one batch or
    (ntire) one subset folder takes longer; the shard's remaining images then fail as timed out.
    """

    type: str
    options: dict[str, Any] = Field(default_factory=dict)
    timeout_s: float | None = Field(default=None, gt=0)


class IdentityConfig(_Strict):
    """The identity gate: a backbone, and at most `max_failures` failures per `failures_per` images,
    scaled to the dataset's size (floor), so the official "10 of 450" allows none on 10 images.
    Unset, the limit is the protocol's."""

    backbone: str
    max_failures: int | None = Field(None, ge=0)
    failures_per: int | None = Field(None, gt=0)


class ScoreConfig(_Strict):
    """The score terms (unset: the protocol's), and what a failed image (missing, unreadable, wrong size, a
    metric that failed on it) counts as in every mean and in FID: `worst` charges it the board's worst value
    (faceboard.scoring.charge), `drop` leaves it out (not comparable: withholding bad images would pay)."""

    terms: dict[str, ScoreTerm] | None = None
    failed_images: Literal["worst", "drop"] = "worst"


class BootstrapConfig(_Strict):
    """Confidence on the leaderboard (faceboard.scoring.bootstrap): `resamples` paired draws of the images,
    stratified by subset and seeded by the top-level `seed`; `confidence` is the interval's coverage and the
    share of resamples a method must win to be separable from the next."""

    resamples: int = Field(1000, ge=1)
    confidence: float = Field(0.95, gt=0, lt=1)


class DegradationConfig(_Strict):
    """Synthetic LQ faces (faceboard/degrade): a preset, range overrides per preset, worker processes."""

    preset: str = "gfpgan"
    overrides: dict[str, dict[str, Any]] = Field(default_factory=dict)
    workers: int = Field(1, ge=1)

    @model_validator(mode="after")
    def _ranges_valid(self) -> DegradationConfig:
        from faceboard.degrade.presets import resolve

        for preset in {self.preset, *self.overrides}:
            try:
                resolve(preset, self.overrides.get(preset))
            except KeyError as err:
                raise ValueError(err.args[0]) from None
        return self


class PairedConfig(_Strict):
    """The paired track: methods run on the synthetic LQ faces, full-reference metrics against the HQ faces."""

    methods: list[str] = Field(default_factory=list)
    metrics: list[str] = Field(default_factory=lambda: ["psnr", "ssim", "lpips"])

    @model_validator(mode="after")
    def _metrics_known(self) -> PairedConfig:
        from faceboard.metrics.table import FULL_REFERENCE, names

        known = names((FULL_REFERENCE,))
        unknown = [m for m in self.metrics if m not in known]
        if unknown:
            raise ValueError(f"unknown full-reference metrics {unknown}; known: {', '.join(known)}")
        return self


class ScheduleConfig(_Strict):
    """`faceboard serve`: when the scheduled regeneration (dvc pull, repro, push, publish) runs."""

    cron: str = "0 3 * * *"
    timezone: str = "UTC"
    publish_dir: str | None = None  # where each run copies the report (and run.json); None: not copied
    retries: int = 3                # for dvc pull/push (network): attempts after the first, with backoff
    retry_delay_s: float = 10.0     # first retry's delay; it doubles each time


class ExecutionConfig(_Strict):
    """How shards (method x subset) run; it never changes a result. `workers` shards at once: 1 runs them one
    after another in this process; more run in that many worker processes, here or on the `dask.distributed`
    cluster at `dask_address` (`runner: dask` without an address starts a local one). `gpu_slots`: shards
    that may use one GPU at once (a Prefect global concurrency limit per GPU)."""

    workers: int = Field(1, ge=1)
    runner: Literal["local", "dask"] = "local"
    dask_address: str | None = None
    gpu_slots: int = Field(1, ge=1)

    @property
    def parallel(self) -> bool:
        return self.workers > 1 or self.runner == "dask"


class ReportConfig(_Strict):
    """The HTML page's gallery: every image of the board (LQ input and each method's output) as a WebP thumbnail
    of `thumbnail_px` pixels at `quality`; over `gallery_mb` in all, a chosen subset of the images (those a method
    failed on first, then an even share per subset), said on the page."""

    thumbnail_px: int = Field(128, ge=16, le=1024)
    quality: int = Field(70, ge=1, le=100)
    gallery_mb: float = Field(8.0, gt=0)


class ArchiveLimits(_Strict):
    """What a zip or tar (a submission or a dataset) may hold; checked before a byte is extracted, and again while
    extracting (a member that inflates past what it declared is cut off): over any limit, the archive is refused."""

    max_total_mb: float = Field(4096, gt=0)  # total uncompressed size of all members
    max_members: int = Field(100_000, ge=1)
    max_ratio: float = Field(100, gt=1)  # uncompressed / compressed size, of the whole archive and of each member


class SecurityConfig(_Strict):
    """What faceboard accepts from outside: archive limits, and whether a team's own code (`ntire` methods) may run
    at all; when it may, it runs in its own process, in its own working folder, killed after `team_code_timeout_s`
    (a method's `timeout_s` when set)."""

    archive: ArchiveLimits = Field(default_factory=ArchiveLimits)
    team_code: bool = False
    team_code_timeout_s: float = Field(3600, gt=0)


# params.yaml sections about operating runs: they never change a result
OPERATIONAL = frozenset({"schedule", "execution"})
# sections about presenting results: tracked by the stages that use them, but outside the results' fingerprint
PRESENTATION = frozenset({"report"})


class Params(_Strict):
    protocol: str = "ntire2025"
    seed: int = 0
    device: str = "auto"
    batch_size: int = 8
    dataset: str
    datasets: dict[str, DatasetConfig]
    methods: dict[str, MethodConfig]
    metrics: dict[str, dict[str, Any]]
    identity: IdentityConfig
    score: ScoreConfig
    bootstrap: BootstrapConfig = Field(default_factory=BootstrapConfig)
    degradation: DegradationConfig = Field(default_factory=DegradationConfig)
    paired: PairedConfig = Field(default_factory=PairedConfig)
    schedule: ScheduleConfig = Field(default_factory=ScheduleConfig)
    execution: ExecutionConfig = Field(default_factory=ExecutionConfig)
    report: ReportConfig = Field(default_factory=ReportConfig)
    security: SecurityConfig = Field(default_factory=SecurityConfig)

    @model_validator(mode="after")
    def _dataset_known(self) -> Params:
        for edition in {self.protocol, *(d.edition for d in self.datasets.values() if d.edition)}:
            try:
                protocols.get(edition)
            except KeyError as err:
                raise ValueError(err.args[0]) from None
        if self.dataset not in self.datasets:
            raise ValueError(f"dataset {self.dataset!r} is not among datasets: {sorted(self.datasets)}")
        return self

    @model_validator(mode="after")
    def _paired_methods_known(self) -> Params:
        unknown = [m for m in self.paired.methods if m not in self.methods]
        if unknown:
            raise ValueError(f"paired.methods {unknown} are not among methods: {sorted(self.methods)}")
        return self

    def results_config(self) -> dict[str, Any]:
        """Every param that can change a result (all but the OPERATIONAL and PRESENTATION sections): what run.json
        fingerprints."""
        return BaseModel.model_dump(self, exclude=set(OPERATIONAL | PRESENTATION))  # one read of the sections

    @property
    def active_dataset(self) -> DatasetConfig:
        return self.datasets[self.dataset]

    @property
    def edition(self) -> Protocol:
        """The protocol this run follows (faceboard.protocol)."""
        return protocols.get(self.protocol)

    @property
    def score_terms(self) -> dict[str, ScoreTerm]:
        return dict(self.score.terms) if self.score.terms is not None else dict(self.edition.terms)

    @property
    def failure_rule(self) -> tuple[int, int]:
        """(max_failures, failures_per): params.yaml's, else the protocol's."""
        identity, rules = self.identity, self.edition
        return (rules.max_failures if identity.max_failures is None else identity.max_failures,
                rules.failures_per if identity.failures_per is None else identity.failures_per)

    def failure_limit(self, n_images: int) -> int:
        return protocols.failure_limit(*self.failure_rule, n_images)

    def thresholds(self, backbone: str) -> dict[str, float]:
        """Per-subset ID thresholds of the active dataset for `backbone`: params.yaml's, else (for the
        protocol's official backbone) the protocol's."""
        official = self.edition.thresholds if backbone == self.edition.backbone else {}
        out = {}
        for name, subset in self.active_dataset.subsets.items():
            threshold = subset.id_threshold.get(backbone, official.get(name))
            if threshold is None:
                raise KeyError(f"subset {name!r} has no id_threshold for backbone {backbone!r} "
                               f"(and protocol {self.protocol} gives none)")
            out[name] = threshold
        return out


def load_params(path: Path | None = None) -> Params:
    """Read and validate params.yaml (default: the project root's)."""
    path = path or find_root() / PARAMS_FILE
    with open(path, encoding="utf-8") as fh:
        raw = yaml.safe_load(fh)
    return Params.model_validate(raw)


def fingerprint(obj: Any) -> str:
    """A short stable hash of JSON-able config, for cache keys and provenance."""
    blob = json.dumps(obj, sort_keys=True, default=str).encode()
    return hashlib.sha256(blob).hexdigest()[:16]
