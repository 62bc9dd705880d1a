"""The `chain` kind: python methods applied in order, each optionally only where a metric says so.

    type: chain
    options:
      stages:
        - {type: realesrgan-x4plus}
        - {type: gfpgan, options: {fp16: true}, when: {metric: musiq, below: 40}}

A stage's `when` is checked per image, on the image as the previous stages left it: the no-reference
metric (any per-image metric of `faceboard metrics`, with optional `options`) must be `below` or `above`
the threshold. A condition whose metric cannot run here fails the method when it loads, saying why.
The restore log's `stages` column lists, per image, the stages that ran.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from faceboard.methods import registry

STAGE_SEPARATOR = " -> "


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Condition(_Strict):
    metric: str
    below: float | None = None
    above: float | None = None
    options: dict[str, Any] = Field(default_factory=dict)

    @model_validator(mode="after")
    def _one_bound(self) -> Condition:
        if (self.below is None) == (self.above is None):
            raise ValueError("a `when` condition needs exactly one of `below` or `above`")
        return self

    def holds(self, scores: np.ndarray) -> np.ndarray:
        return scores < self.below if self.below is not None else scores > self.above


class StageConfig(_Strict):
    type: str
    options: dict[str, Any] = Field(default_factory=dict)
    when: Condition | None = None


class ChainOptions(_Strict):
    stages: list[StageConfig] = Field(min_length=1)


def stage_configs(options: dict) -> list[StageConfig]:
    try:
        return ChainOptions.model_validate(options).stages
    except ValidationError as err:
        raise ValueError(f"invalid chain options:\n{err}") from None


def stage_specs(options: dict, root: Path | None) -> list[registry.MethodSpec]:
    """The registered method of each stage; only python methods can be chained."""
    specs = []
    for number, stage in enumerate(stage_configs(options), 1):
        spec = registry.get(stage.type, root)
        if spec.kind != registry.PYTHON:
            raise ValueError(f"chain stage {number} ({stage.type}) is a {spec.kind} method; only python methods chain")
        specs.append(spec)
    return specs


class Chain:
    """`chain(images) -> (outputs, stages_ran)`; every stage's model loads once, here."""

    def __init__(self, options: dict, device: str, root: Path | None = None) -> None:
        stage_specs(options, root)  # validates types and kinds before any model loads
        self.stages = [_Stage(number, config, device, root) for number, config in enumerate(stage_configs(options), 1)]

    def __call__(self, images: list[np.ndarray]) -> tuple[list[np.ndarray], list[list[str]]]:
        current = list(images)
        ran: list[list[str]] = [[] for _ in images]
        for stage in self.stages:
            chosen = stage.select(current)
            if not chosen:
                continue
            outputs = stage.restorer([current[i] for i in chosen])
            if len(outputs) != len(chosen):
                raise RuntimeError(f"chain stage {stage.name} returned {len(outputs)} images for {len(chosen)}")
            for i, out in zip(chosen, outputs):
                if getattr(out, "shape", None) != current[i].shape:
                    raise RuntimeError(f"chain stage {stage.name} returned {getattr(out, 'shape', type(out))} "
                                       f"for an input of {current[i].shape}")
                current[i] = out
                ran[i].append(stage.config.type)
        return current, ran


class _Stage:
    def __init__(self, number: int, config: StageConfig, device: str, root: Path | None) -> None:
        self.config = config
        self.name = f"{number} ({config.type})"
        self.restorer = registry.build(config.type, config.options, device, root)
        self.metric = _metric(self.name, config.when, device) if config.when else None

    def select(self, images: list[np.ndarray]) -> list[int]:
        """Indices of the images this stage applies to."""
        if self.metric is None:
            return list(range(len(images)))
        from faceboard.imageio import to_batch

        scores = np.asarray(self.metric(to_batch(images)), dtype=np.float64)
        return [int(i) for i in np.flatnonzero(self.config.when.holds(scores))]


def _metric(stage: str, when: Condition, device: str):
    from faceboard.metrics.table import MetricUnavailable, get, load

    if get(when.metric).set_metric:
        raise ValueError(f"chain stage {stage}: {when.metric} is a set metric, not a per-image condition")
    try:
        return load(when.metric, when.options, device)
    except MetricUnavailable as err:
        raise MetricUnavailable(f"chain stage {stage}: its condition's metric cannot run here: {err}") from None
