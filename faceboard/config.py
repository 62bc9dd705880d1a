"""params.yaml: the one loader every flow, stage and command uses."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from faceboard.env import PARAMS_FILE, find_root


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceConfig(_Strict):
    """Where a dataset comes from: `embedded` (a folder in the repo) or `http` (issue: fetch)."""

    type: str
    path: str | None = None
    url: str | None = None
    sha256: str | None = None


class SubsetConfig(_Strict):
    """One subset and its identity threshold for each ID backbone."""

    id_threshold: dict[str, float]


class DatasetConfig(_Strict):
    description: str = ""
    source: SourceConfig
    lq: str = "lq"
    landmarks: str | None = "landmarks.csv"
    image_size: int = 512
    subsets: dict[str, SubsetConfig]
    licence: str = ""


class MethodConfig(_Strict):
    """A leaderboard entry: a registered method `type` and its options."""

    type: str
    options: dict[str, Any] = Field(default_factory=dict)


class IdentityConfig(_Strict):
    backbone: str
    max_failures: int = 10


class ScoreTerm(_Strict):
    """One term of the score: `scale * x`, or `max(0, (headroom - x) / headroom)`."""

    scale: float | None = None
    headroom: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScoreTerm:
        if (self.scale is None) == (self.headroom is None):
            raise ValueError("a score term needs exactly one of `scale` or `headroom`")
        return self

    def value(self, x: float) -> float:
        if self.scale is not None:
            return self.scale * x
        return max(0.0, (self.headroom - x) / self.headroom)


class ScoreConfig(_Strict):
    terms: dict[str, ScoreTerm]


class Params(_Strict):
    seed: int = 0
    device: str = "auto"
    batch_size: int = 8
    dataset: str
    datasets: dict[str, DatasetConfig]
    methods: dict[str, MethodConfig]
    metrics: dict[str, dict[str, Any]]
    identity: IdentityConfig
    score: ScoreConfig

    @model_validator(mode="after")
    def _dataset_known(self) -> Params:
        if self.dataset not in self.datasets:
            raise ValueError(f"dataset {self.dataset!r} is not among datasets: {sorted(self.datasets)}")
        return self

    @property
    def active_dataset(self) -> DatasetConfig:
        return self.datasets[self.dataset]

    def thresholds(self, backbone: str) -> dict[str, float]:
        """Per-subset ID thresholds of the active dataset for `backbone`."""
        out = {}
        for name, subset in self.active_dataset.subsets.items():
            if backbone not in subset.id_threshold:
                raise KeyError(f"subset {name!r} has no id_threshold for backbone {backbone!r}")
            out[name] = subset.id_threshold[backbone]
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
