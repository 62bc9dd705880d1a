"""Score a list of images: identity similarity to the LQ input and no-reference metrics.

One bad image (unreadable, wrong size, missing landmarks, a metric that raises on it) becomes a
recorded failure of that image; the rest of the list is scored.

Set metrics (FID) give no per-image value: each scored row carries the image's features under
`FEATURES`, and `Scorer.set_values(rows)` turns the rows of one method into one value per set metric.

Every row also gets its LQ input's value of each per-image metric, `lq_<metric>`, and a row without output
features its LQ input's set-metric features (`LQ_FEATURES`): what a failed image is charged against
(faceboard.scoring.charge). LQ values are computed once per LQ image and cached by content.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceboard.cache import ArrayCache, embedding_key
from faceboard.config import fingerprint
from faceboard.files import sha256_file
from faceboard.identity.gate import cosine_similarity
from faceboard.imageio import ImageError, read_rgb_checked, to_batch
from faceboard.metrics import table as metric_table
from faceboard.progress import progress

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


class Scorer:
    """Holds loaded models for one process: metrics and ID backbone load once and are reused."""

    def __init__(self, metrics: dict[str, dict], backbone: str | None, device: str, cache_dir: Path,
                 size: int = 512) -> None:
        self.device = device
        self.size = size
        self.cache_dir = cache_dir
        self._lq_caches: dict[str, ArrayCache] = {}
        self.metrics, self.unavailable = {}, {}
        for name, options in metrics.items():
            try:
                self.metrics[name] = metric_table.load(name, options, device)
            except metric_table.MetricUnavailable as err:
                self.unavailable[name] = str(err)
        self.backbone = None
        self.cache = None
        if backbone is not None:
            from faceboard.identity.backbones import load_backbone

            self.backbone = load_backbone(backbone, device)
            self.cache = ArrayCache(cache_dir / "embeddings" / backbone)
        self._lock = threading.Lock()  # models are shared by the shard threads of one flow

    @property
    def per_image_metrics(self) -> list[str]:
        return [name for name, metric in self.metrics.items() if not metric.spec.set_metric]

    def set_values(self, rows: list[dict]) -> dict[str, dict]:
        """Each set metric over the features the rows carry: {name: {value, images, error, worst}}.

        `value` is over the outputs alone; `worst` ({value, images, lq_stand_ins, error}) adds the LQ input's
        features for each image without output features. A set metric that cannot be computed gets value
        None and the error; it never stops the run.
        """
        out = {}
        for name, metric in self.metrics.items():
            if metric.spec.set_metric:
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
        rows = []
        with progress(len(items), desc) as advance:
            for start in range(0, len(items), batch_size):
                with self._lock:
                    rows += self._score_batch(method, items[start:start + batch_size])
                advance(len(items[start:start + batch_size]))
        return rows

    def _score_batch(self, method: str, items: list[Item]) -> list[dict]:
        rows, read = read_rows(method, items, lambda item: read_rgb_checked(item.output, (self.size, self.size)))
        if read:
            self._measure(*(list(column) for column in zip(*read)))
        self._lq_values(items, rows)
        return rows

    def _measure(self, kept: list[Item], ok: list[dict], images: list[np.ndarray]) -> None:
        """Each metric (set metrics: features) and the identity similarity of the images that were read."""
        batch = to_batch(images)
        for name, metric in self.metrics.items():
            if metric.spec.set_metric:
                for row, features in zip(ok, split_per_image(lambda i, j, f=metric.features: f(batch[i:j]), ok, name)):
                    if features is not None:
                        row.setdefault(FEATURES, {})[name] = features
            else:
                for row, value in zip(ok, split_per_image(lambda i, j, m=metric: m(batch[i:j]), ok, name)):
                    row[name] = float("nan") if value is None else float(value)
        if self.backbone is not None:
            for row, sim in zip(ok, self._identity(kept, images, ok)):
                row["id_sim"] = sim

    def _lq_values(self, items: list[Item], rows: list[dict]) -> None:
        """Give every row its LQ input's value of each per-image metric (`lq_<metric>`), and a row without
        output features its LQ input's set-metric features: computed once per LQ image (cached by content)."""
        pending = []
        for item, row in zip(items, rows):
            if item.lq is None or not item.lq.is_file():
                continue
            sha, need = sha256_file(item.lq), []
            for name, metric in self.metrics.items():
                if metric.spec.set_metric and name in row.get(FEATURES, {}):
                    continue
                cached = self._lq_cache(name).get(sha)
                if cached is None:
                    need.append(name)
                else:
                    _put_lq(row, name, metric, cached)
            if need:
                pending.append((row, item, sha, need))
        read = []
        for row, item, sha, need in pending:
            try:
                read.append((row, sha, need, read_rgb_checked(item.lq, (self.size, self.size))))
            except ImageError:
                continue  # no LQ value: the charge takes the other values on the board
        if not read:
            return
        batch = to_batch([image for *_, image in read])
        scratch = [{"error": ""} for _ in read]  # an LQ metric error is not the output's error
        for name, metric in self.metrics.items():
            chosen = [i for i, (_, _, need, _) in enumerate(read) if name in need]
            part, compute = batch[chosen], metric.features if metric.spec.set_metric else metric
            values = split_per_image(lambda i, j, f=compute, x=part: f(x[i:j]), [scratch[i] for i in chosen], name)
            for i, value in zip(chosen, values):
                if value is not None:
                    row, sha = read[i][:2]
                    self._lq_cache(name).put(sha, np.asarray(value))
                    _put_lq(row, name, metric, np.asarray(value))

    def _lq_cache(self, name: str) -> ArrayCache:
        """LQ values of metric `name`, keyed by image content, under a folder named by everything that
        produced them (options, weights digests, versions, device)."""
        if name not in self._lq_caches:
            producer = fingerprint({**self.metrics[name].provenance(), "device": str(self.device)})
            self._lq_caches[name] = ArrayCache(self.cache_dir / "metrics" / f"{name}-{producer}")
        return self._lq_caches[name]

    def _identity(self, items: list[Item], outputs: list[np.ndarray], rows: list[dict]) -> list[float]:
        sims = []
        for item, output, row in zip(items, outputs, rows):
            try:
                if item.lq is None or item.landmarks is None:
                    raise ValueError("no LQ image or landmarks for the identity check")
                reference = self._lq_embedding(item)
                embedding = self.backbone.embed([output], [item.landmarks])[0]
                sims.append(float(cosine_similarity(reference, embedding)))
            except (ImageError, ValueError) as err:
                sims.append(float("nan"))
                row["error"] = f"{row['error']}; identity: {err}".lstrip("; ")
        return sims

    def _lq_embedding(self, item: Item) -> np.ndarray:
        key = embedding_key(sha256_file(item.lq), item.landmarks)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        lq = read_rgb_checked(item.lq, (self.size, self.size))
        embedding = self.backbone.embed([lq], [item.landmarks])[0]
        self.cache.put(key, embedding)
        return embedding


def _put_lq(row: dict, name: str, metric: Any, value: np.ndarray) -> None:
    if metric.spec.set_metric:
        row.setdefault(LQ_FEATURES, {})[name] = value
    else:
        row[LQ_PREFIX + name] = float(value)


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
    """`score(i, j)` gives the values of images i..j-1: called once for all rows, and on failure image by
    image, so the image that breaks a metric gets None and an error in its row while the others keep theirs."""
    try:
        return list(score(0, len(rows)))
    except Exception:  # noqa: BLE001 - find the image that breaks it, keep the others
        values = []
        for i, row in enumerate(rows):
            try:
                values.append(score(i, i + 1)[0])
            except Exception as err:  # noqa: BLE001
                values.append(None)
                row["error"] = f"{row['error']}; {name}: {type(err).__name__}: {err}".lstrip("; ")
        return values
