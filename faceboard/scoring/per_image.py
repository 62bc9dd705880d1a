"""Score a list of images: identity similarity to the LQ input and no-reference metrics.

One bad image (unreadable, wrong size, missing landmarks, a metric that raises on it) becomes a
recorded failure of that image; the rest of the list is scored.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from faceboard.config import fingerprint
from faceboard.identity.cache import EmbeddingCache
from faceboard.identity.gate import cosine_similarity
from faceboard.files import sha256_file
from faceboard.imageio import ImageError, read_rgb_checked
from faceboard.metrics import table as metric_table
from faceboard.progress import progress


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
            self.cache = EmbeddingCache(cache_dir, backbone)
        self._lock = threading.Lock()  # models are shared by the shard threads of one flow

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
        rows, images, ok = [], [], []
        for item in items:
            row = {"method": method, "subset": item.subset, "image": item.name, "status": "ok", "error": item.error}
            rows.append(row)
            if item.error:
                row["status"] = "failed"
                continue
            try:
                images.append(read_rgb_checked(item.output, (self.size, self.size)))
                ok.append(row)
            except ImageError as err:
                row.update(status="failed", error=str(err))
        if not ok:
            return rows
        kept = [it for it, r in zip(items, rows) if r in ok]
        batch = torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)
        for name, metric in self.metrics.items():
            for row, value in zip(ok, self._metric(metric, batch, ok, name)):
                row[name] = value
        if self.backbone is not None:
            for row, sim in zip(ok, self._identity(kept, images, ok)):
                row["id_sim"] = sim
        return rows

    def _metric(self, metric, batch: torch.Tensor, rows: list[dict], name: str) -> list[float]:
        try:
            return list(metric(batch))
        except Exception:  # noqa: BLE001 - find the image that breaks it, keep the others
            values = []
            for i, row in enumerate(rows):
                try:
                    values.append(float(metric(batch[i:i + 1])[0]))
                except Exception as err:  # noqa: BLE001
                    values.append(float("nan"))
                    row["error"] = f"{row['error']}; {name}: {type(err).__name__}: {err}".lstrip("; ")
            return values

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
        key = self.cache.key(sha256_file(item.lq), item.landmarks)
        cached = self.cache.get(key)
        if cached is not None:
            return cached
        lq = read_rgb_checked(item.lq, (self.size, self.size))
        embedding = self.backbone.embed([lq], [item.landmarks])[0]
        self.cache.put(key, embedding)
        return embedding
