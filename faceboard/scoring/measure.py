"""Measure images once: every metric value and ID embedding cached by content and by what produced it.

A `Picture` is one image file with what it needs (metric names and/or `ID`). `Measurer.read` (safe on a
reader thread) reads and hashes the file, takes what the cache already holds and decodes the pixels only
when something is left to compute; `Measurer.compute` runs each model once per batch over the pictures
that still need it, the same content measured once, and caches the results.

Cache folders are named by the producer (metric options, weight digests, library versions, device,
the required size), keys by the image's sha256 (and the landmarks, for an embedding), so a changed
image, model or option never reads an old value. The cache is never a DVC output: deleting it costs time.
"""

from __future__ import annotations

import contextlib
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from faceboard.cache import ArrayCache, embedding_key
from faceboard.config import fingerprint
from faceboard.imageio import ImageError, decode_rgb, read_bytes, require_size

ID = "id"  # what a picture needs for the identity gate: its embedding


class Timings:
    """Seconds per step, summed over threads (the reader overlaps the models), and counts per outcome."""

    def __init__(self) -> None:
        self.seconds: Counter[str] = Counter()
        self.counts: Counter[str] = Counter()
        self._lock = threading.Lock()

    @contextmanager
    def __call__(self, step: str) -> Iterator[None]:
        start = time.perf_counter()
        try:
            yield
        finally:
            with self._lock:
                self.seconds[step] += time.perf_counter() - start

    def count(self, what: str, n: int = 1) -> None:
        with self._lock:
            self.counts[what] += n

    def record(self) -> dict:
        return {"seconds": {k: round(v, 3) for k, v in sorted(self.seconds.items())},
                "counts": dict(sorted(self.counts.items()))}


@dataclass(eq=False)
class Picture:
    """One image file: what it needs, what is known of it, and its pixels while something is left to compute."""

    path: Path
    needs: set[str]
    landmarks: np.ndarray | None = None
    sha: str = ""
    values: dict[str, np.ndarray] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)  # need -> why it could not be computed
    pixels: np.ndarray | None = None
    error: str = ""  # unreadable or the wrong size: nothing can be measured

    def missing(self) -> set[str]:
        return self.needs - self.values.keys() - self.errors.keys()


class Measurer:
    """The loaded metrics and ID backbone of one process, with their content caches."""

    def __init__(self, metrics: dict[str, Any], backbone: Any, cache_dir: Path, size: int, device: str,
                 timings: Timings) -> None:
        self.metrics = metrics
        self.backbone = backbone
        self.size = size
        self.device = str(device)
        self.cache_dir = cache_dir
        self.timings = timings
        self._caches: dict[str, ArrayCache] = {}
        self._locks: dict[str, threading.Lock] = {}

    def cache(self, need: str) -> ArrayCache:
        """The cache of a metric's values or of the backbone's embeddings, named by what produces them."""
        if need not in self._caches:
            model = self._model(need)
            producer = fingerprint({**model.provenance(), "device": self.device, "size": self.size})
            folder = f"embeddings/{model.spec.name}" if need == ID else f"metrics/{need}"
            self._caches[need] = ArrayCache(self.cache_dir / f"{folder}-{producer}")
        return self._caches[need]

    def read(self, path: Path, needs: set[str], landmarks: np.ndarray | None = None) -> Picture:
        """Read and hash `path`, take cached values, decode only if something is left to compute."""
        picture = Picture(Path(path), set(needs), landmarks)
        try:
            with self.timings("read + sha256"):
                data, picture.sha = read_bytes(picture.path)
            self._complete(picture, data)
        except ImageError as err:
            picture.error = str(err)
        return picture

    def compute(self, pictures: list[Picture], batch_size: int = 8) -> None:
        """Everything the pictures still miss: each content once, at most `batch_size` images per model call
        (fewer where the model caps its batch on this device); then cached."""
        for picture in pictures:  # needs added since it was read (an LQ input standing in for set features)
            if picture.missing() and picture.pixels is None and not picture.error:
                try:
                    self._complete(picture)
                except ImageError as err:
                    picture.error = str(err)
        todo = [p for p in pictures if not p.error and p.missing()]
        for name, metric in self.metrics.items():
            self._run(name, [p for p in todo if name in p.missing()], lambda batch, m=metric: _call(m, batch),
                      lambda p: p.sha, batch_size)
        if self.backbone is not None:
            self._run(ID, [p for p in todo if ID in p.missing()], self._embed, _embedding_key, batch_size)
        for picture in pictures:
            picture.pixels = None  # nothing is left to compute: free the memory

    def _complete(self, picture: Picture, data: bytes | None = None) -> None:
        """Take what the cache holds; decode the file (its bytes `data`, else read again) if anything is left."""
        self._lookup(picture)
        if picture.missing():
            self._decode(picture, read_bytes(picture.path)[0] if data is None else data)

    def _lookup(self, picture: Picture) -> None:
        with self.timings("cache"):
            for need in picture.missing():
                if need == ID and picture.landmarks is None:
                    picture.errors[ID] = "no landmarks"
                    continue
                cached = self.cache(need).get(_embedding_key(picture) if need == ID else picture.sha)
                if cached is not None:
                    picture.values[need] = cached
                    self.timings.count(f"{need} cached")

    def _decode(self, picture: Picture, data: bytes) -> None:
        with self.timings("decode"):
            picture.pixels = require_size(decode_rgb(data, picture.path), picture.path, (self.size, self.size))

    def _run(self, need: str, pictures: list[Picture], compute, key, batch_size: int) -> None:
        """`compute(pictures)` -> one value per picture, on each distinct key once, `batch_size` at a time;
        a failing batch is retried image by image so only the image that breaks it loses the value."""
        unique = list({key(p): p for p in pictures}.values())
        device_type = self.device.split(":")[0]
        batch_size = min(batch_size, getattr(self._model(need), "max_batch", {}).get(device_type, batch_size))
        found = {}
        for start in range(0, len(unique), batch_size):
            batch = unique[start:start + batch_size]
            for picture, value, error in zip(batch, *self._batch(need, batch, compute), strict=True):
                found[key(picture)] = (value, error)
                if value is not None:
                    self.cache(need).put(key(picture), np.asarray(value))
        if unique:
            self.timings.count(f"{need} computed", len(unique))
        for picture in pictures:
            value, error = found[key(picture)]
            if value is None:
                picture.errors[need] = error
            else:
                picture.values[need] = np.asarray(value)

    def _batch(self, need: str, batch: list[Picture], compute) -> tuple[list, list[str]]:
        """(values, errors) of one model call over `batch`; a model not declared `thread_safe` runs in one
        lane at a time."""
        model = self._model(need)
        label = need if need != ID else f"identity ({self.backbone.spec.name})"
        lock = contextlib.nullcontext() if getattr(model, "thread_safe", False) else self._locks.setdefault(need, threading.Lock())
        with lock, self.timings(label):
            return values_or_errors(lambda i, j: compute(batch[i:j]), len(batch))

    def _model(self, need: str) -> Any:
        return self.backbone if need == ID else self.metrics[need]

    def _embed(self, pictures: list[Picture]) -> np.ndarray:
        return self.backbone.embed([p.pixels for p in pictures], [p.landmarks for p in pictures])


def values_or_errors(call: Callable[[int, int], Sequence], n: int) -> tuple[list, list[str]]:
    """`call(i, j)` gives the values of items i..j-1: called once for all n, and where that fails item by item,
    so only the item that breaks it gets None and its error ("Type: message"); the others keep their values."""
    try:
        return list(call(0, n)), [""] * n
    except Exception:  # noqa: BLE001 - find the item that breaks it, keep the others
        values, errors = [], []
        for i in range(n):
            try:
                values.append(call(i, i + 1)[0])
                errors.append("")
            except Exception as err:  # noqa: BLE001 - recorded with the item
                values.append(None)
                errors.append(f"{type(err).__name__}: {err}")
        return values, errors


def _call(metric: Any, pictures: list[Picture]) -> np.ndarray:
    """A per-image metric's values, or a set metric's features, of the pictures' pixels."""
    from faceboard.imageio import to_batch

    batch = to_batch([p.pixels for p in pictures])
    return metric.features(batch) if metric.spec.set_metric else metric(batch)


def _embedding_key(picture: Picture) -> str:
    return embedding_key(picture.sha, picture.landmarks)
