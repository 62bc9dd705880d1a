"""Score a list of images: identity similarity to the LQ input and no-reference metrics.

One bad image (unreadable, wrong size, missing landmarks or landmarks outside the image, a metric that
raises on it) becomes a recorded failure of that image; the rest of the list is scored.

Set metrics (FID) give no per-image value: each scored row carries the image's features under
`FEATURES`, and `Scorer.set_values(rows)` turns the rows of one method into one value per set metric.

Every row also gets its LQ input's value of each per-image metric, `lq_<metric>`, and a row without
output features its LQ input's set-metric features (`LQ_FEATURES`): what a failed image is charged against
(faceboard.scoring.charge).

The engine streams: chunks are read, hashed and decoded ahead while lanes measure others, with a bounded
number of chunks in memory (`Scorer.score`). Every value (metric value, set features, ID embedding) is
cached by the image's content and everything that produced it (faceboard.scoring.measure), for outputs
and LQ inputs alike: an LQ image is measured once for every method, and re-scoring an unchanged
submission computes nothing.
"""

from __future__ import annotations

import os
import threading
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import numpy as np

from faceboard.config import fingerprint
from faceboard.identity.gate import cosine_similarity
from faceboard.imageio import ImageError
from faceboard.landmarks import LandmarkError, require_inside
from faceboard.memory import release_freed_memory
from faceboard.metrics import table as metric_table
from faceboard.progress import progress
from faceboard.scoring.measure import ID, Measurer, Picture, Timings, values_or_errors

FEATURES = "set_features"  # row key: {set metric: this image's feature vector}; never written to a table
LQ_FEATURES = "lq_set_features"  # row key: the same for the LQ input, where the output has none
LQ_PREFIX = "lq_"  # column prefix: a metric's value on the LQ input, where the output has none


@dataclass(frozen=True)
class Item:
    """One image to score; `error` set means it already failed upstream (restore, matching)."""

    subset: str
    name: str
    output: Path | None
    lq: Path | None = None
    landmarks: np.ndarray | None = None
    error: str = ""


@dataclass
class _Prepared:
    """An item with its row started and its pictures read ahead (None: nothing to read)."""

    item: Item
    row: dict
    output: Picture | None
    lq: Picture | None


class Scorer:
    """Holds loaded models for one process: metrics and ID backbone load once and are reused."""

    def __init__(self, metrics: dict[str, dict], backbone: str | None, device: str, cache_dir: Path,
                 size: int = 512, lanes: int | None = None) -> None:
        self.device = device
        self.size = size
        self.cache_dir = cache_dir
        self.timings = Timings()
        self.metrics, self.unavailable = {}, {}
        with self.timings("load models"):
            for name, options in metrics.items():
                try:
                    self.metrics[name] = metric_table.load(name, options, device)
                except metric_table.MetricUnavailable as err:
                    self.unavailable[name] = str(err)
            self.backbone = None
            if backbone is not None:
                from faceboard.identity.backbones import load_backbone

                self.backbone = load_backbone(backbone, device)
        self.measurer = Measurer(self.metrics, self.backbone, cache_dir, size, device, self.timings)
        self.lanes = lanes or (len(os.sched_getaffinity(0)) if str(device) == "cpu" else 1)

    @property
    def per_image_metrics(self) -> list[str]:
        return [name for name, metric in self.metrics.items() if not metric.spec.set_metric]

    @property
    def set_metrics(self) -> list[str]:
        return [name for name, metric in self.metrics.items() if metric.spec.set_metric]

    def set_values(self, rows: list[dict]) -> dict[str, dict]:
        """Each set metric over the features the rows carry: {name: {value, images, error, worst}}.

        `value` is over the outputs alone; `worst` ({value, images, lq_stand_ins, error}) adds the LQ input's
        features for each image without output features. A set metric that cannot be computed gets value
        None and the error; it never stops the run.
        """
        out = {}
        for name in self.set_metrics:
            metric = self.metrics[name]
            outputs = [row[FEATURES][name] for row in rows if name in row.get(FEATURES, {})]
            stand_ins = [row[LQ_FEATURES][name] for row in rows
                         if name not in row.get(FEATURES, {}) and name in row.get(LQ_FEATURES, {})]
            entry = _set_value(metric, outputs)
            worst = _set_value(metric, outputs + stand_ins) if stand_ins else dict(entry)
            out[name] = {**entry, "worst": {**worst, "lq_stand_ins": len(stand_ins)}}
        return out

    def provenance(self) -> dict:
        return {
            "metrics": {n: m.provenance() for n, m in self.metrics.items()},
            "unavailable_metrics": self.unavailable,
            "id_backbone": self.backbone.provenance() if self.backbone else None,
            "device": self.device,
            "config_fingerprint": fingerprint(sorted(self.metrics)),
        }

    def score(self, method: str, items: list[Item], batch_size: int = 8, desc: str = "score") -> list[dict]:
        """One row per item, in order.

        Chunks of `batch_size` items flow through `lanes` compute threads plus one that reads ahead (a chunk
        is read, hashed and decoded while others are measured); at most lanes + 2 chunks are in memory.
        On a CPU each lane runs single-threaded (torch and OpenCV): lanes over cores measured faster than
        intra-op threads (benchmarks/score_speed.py), with one copy of the models. Freed memory goes back to
        the system after each chunk.
        """
        chunks = [items[i:i + batch_size] for i in range(0, len(items), batch_size)]
        computing = threading.Semaphore(self.lanes)
        rows: list[dict] = []

        def run(chunk: list[Item]) -> list[dict]:
            prepared = self._prepare(method, chunk)
            with computing:
                measured = self._measure_chunk(prepared, batch_size)
            release_freed_memory()  # bounded RSS over a long run (benchmarks/score_speed.py)
            return measured

        with progress(len(items), desc) as advance, self.timings("scoring, wall clock"), \
                _cpu_threads(self.device, self.lanes), \
                ThreadPoolExecutor(self.lanes + 1, thread_name_prefix="faceboard-score") as pool:
            pending: deque = deque()
            for chunk in chunks:
                pending.append(pool.submit(run, chunk))
                if len(pending) > self.lanes + 1:
                    rows += _collect(pending.popleft(), advance)
            while pending:
                rows += _collect(pending.popleft(), advance)
        return rows

    def _prepare(self, method: str, items: list[Item]) -> list[_Prepared]:
        """Rows started; each output read and hashed, decoded where a value is not cached yet."""
        prepared = []
        for item in map(self._checked, items):
            row = {"method": method, "subset": item.subset, "image": item.name, "status": "ok", "error": item.error}
            output = lq = None
            if item.error:
                row["status"] = "failed"
            else:
                output = self.measurer.read(item.output, self._output_needs(item), item.landmarks)
                if output.error:
                    row.update(status="failed", error=output.error)
            if item.lq is not None:
                lq = self.measurer.read(item.lq, self._lq_needs(item), item.landmarks)
            prepared.append(_Prepared(item, row, output, lq))
        return prepared

    def _checked(self, item: Item) -> Item:
        """`item`, or, when its landmarks lie outside the size x size LQ image, the item failed without them."""
        if item.error or item.landmarks is None:
            return item
        try:
            require_inside(item.landmarks, self.size, self.size, f"{item.subset}/{item.name}")
        except LandmarkError as err:
            return replace(item, landmarks=None, error=str(err))
        return item

    def _output_needs(self, item: Item) -> set[str]:
        gated = self.backbone is not None and item.lq is not None and item.landmarks is not None
        return set(self.metrics) | ({ID} if gated else set())

    def _lq_needs(self, item: Item) -> set[str]:
        """Per-image metric values always; the embedding when the gate runs; set features only on demand."""
        return set(self.per_image_metrics) | ({ID} if self.backbone is not None and item.landmarks is not None
                                              else set())

    def _measure_chunk(self, chunk: list[_Prepared], batch_size: int) -> list[dict]:
        pictures = [p for entry in chunk for p in (entry.output, entry.lq) if p is not None and not p.error]
        self.measurer.compute(pictures, batch_size)
        for entry in chunk:
            self._fill(entry)
        missing = [entry for entry in chunk if entry.lq is not None and not entry.lq.error
                   and any(name not in entry.row.get(FEATURES, {}) for name in self.set_metrics)]
        if missing:  # the LQ input's set features stand in for an output that has none
            for entry in missing:
                entry.lq.needs |= set(self.set_metrics)
            self.measurer.compute([entry.lq for entry in missing], batch_size)
            for entry in missing:
                entry.row[LQ_FEATURES] = {name: entry.lq.values[name] for name in self.set_metrics
                                          if name not in entry.row.get(FEATURES, {}) and name in entry.lq.values}
        return [entry.row for entry in chunk]

    def _fill(self, entry: _Prepared) -> None:
        row, output, lq = entry.row, entry.output, entry.lq
        if output is not None and not output.error:
            for name in self.metrics:
                if output.errors.get(name):
                    row["error"] = f"{row['error']}; {name}: {output.errors[name]}".lstrip("; ")
                if self.metrics[name].spec.set_metric:
                    if name in output.values:
                        row.setdefault(FEATURES, {})[name] = output.values[name]
                else:
                    row[name] = float(output.values[name]) if name in output.values else float("nan")
            if self.backbone is not None:
                row["id_sim"] = self._similarity(entry)
        if lq is not None and not lq.error:
            for name in self.per_image_metrics:
                if name in lq.values:
                    row[LQ_PREFIX + name] = float(lq.values[name])

    def _similarity(self, entry: _Prepared) -> float:
        output, lq, item = entry.output, entry.lq, entry.item
        if item.lq is None or item.landmarks is None:
            problem = "no LQ image or landmarks for the identity check"
        elif lq.error:
            problem = lq.error
        else:
            problem = output.errors.get(ID) or lq.errors.get(ID, "")
        if problem or ID not in output.values or ID not in lq.values:
            entry.row["error"] = f"{entry.row['error']}; identity: {problem}".lstrip("; ")
            return float("nan")
        return float(cosine_similarity(lq.values[ID], output.values[ID]))


@dataclass(frozen=True)
class ScorerSpec:
    """What a Scorer loads, picklable: each worker process loads its own from it, once (`loaded`)."""

    metrics: dict[str, dict]
    backbone: str | None
    device: str
    cache_dir: Path
    lanes: int | None = None

    def load(self) -> Scorer:
        return Scorer(self.metrics, self.backbone, self.device, self.cache_dir, lanes=self.lanes)


_loaded_lock = threading.Lock()
_loaded: dict[str, Scorer] = {}


def loaded(spec: ScorerSpec) -> Scorer:
    """This process's Scorer for `spec`, loaded at the first call; one at a time (a new spec frees the last)."""
    key = repr(spec)
    with _loaded_lock:
        if key not in _loaded:
            _loaded.clear()
            _loaded[key] = spec.load()
        return _loaded[key]


def unload() -> None:
    """Drop this process's loaded scorer, if any."""
    with _loaded_lock:
        _loaded.clear()


def _collect(future: Future, advance: Callable[[int], None]) -> list[dict]:
    rows = future.result()
    advance(len(rows))
    return rows


@contextmanager
def _cpu_threads(device: str, lanes: int) -> Iterator[None]:
    """With several lanes on a CPU, torch and OpenCV run single-threaded in each (restored afterwards)."""
    if str(device) != "cpu" or lanes == 1:
        yield
        return
    import cv2
    import torch

    before = torch.get_num_threads(), cv2.getNumThreads()
    torch.set_num_threads(1)
    cv2.setNumThreads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before[0])
        cv2.setNumThreads(before[1])


def _set_value(metric: Any, features: list[np.ndarray]) -> dict:
    entry = {"value": None, "images": len(features), "error": ""}
    try:
        entry["value"] = float(metric.compute(np.stack(features) if features else np.empty((0, 0))))
    except Exception as err:  # noqa: BLE001 - reported in set_metrics.json
        entry["error"] = f"{type(err).__name__}: {err}"
    return entry


def read_rows(method: str, entries: Sequence[Any], read: Callable[[Any], Any]) -> tuple[list[dict], list[tuple]]:
    """One row per entry (it has `subset`, `name`, `error`), failed where the entry already failed or
    `read(entry)` raises ImageError; and `(entry, row, what was read)` for the others, in order."""
    rows, done = [], []
    for entry in entries:
        row = {"method": method, "subset": entry.subset, "image": entry.name, "status": "ok", "error": entry.error}
        rows.append(row)
        if entry.error:
            row["status"] = "failed"
            continue
        try:
            done.append((entry, row, read(entry)))
        except ImageError as err:
            row.update(status="failed", error=str(err))
    return rows, done


def split_per_image(score: Callable[[int, int], Sequence], rows: list[dict], name: str) -> list:
    """`score(i, j)` gives the values of images i..j-1 (faceboard.scoring.measure.values_or_errors): the image
    that breaks a metric gets None and the error in its row, while the others keep their values."""
    values, errors = values_or_errors(score, len(rows))
    for row, error in zip(rows, errors, strict=True):
        if error:
            row["error"] = f"{row['error']}; {name}: {error}".lstrip("; ")
    return values
