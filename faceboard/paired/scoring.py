"""Score restored faces against their HQ ground truth: full-reference metrics, identity similarity to
the HQ face, and the no-reference metrics of the main leaderboard.

Identity: both faces are aligned with the 5 landmarks detected on the HQ face (the restored image
keeps the HQ geometry) and embedded by the configured ID backbone; the similarity is their cosine.
One bad image (unreadable, wrong size, a metric that raises on it) fails alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from faceboard.identity.gate import cosine_similarity
from faceboard.imageio import read_rgb_checked, to_batch
from faceboard.landmarks import Landmarks
from faceboard.layout import ImageRef, match
from faceboard.metrics import table
from faceboard.metrics.table import FULL_REFERENCE, MetricUnavailable
from faceboard.paired.metrics import ID_SIM_HQ
from faceboard.progress import progress
from faceboard.scoring.per_image import read_rows, split_per_image
from faceboard.weights.registry import portable


@dataclass(frozen=True)
class Pair:
    """One HQ face and a method's output for its LQ version; `error` set means it already failed."""

    subset: str
    name: str
    hq: Path
    restored: Path | None
    landmarks: np.ndarray | None  # detected on the HQ face
    error: str = ""


def pairs_for(hq: list[ImageRef], restored: list[ImageRef], landmarks: Landmarks,
              failures: dict[tuple[str, str], str]) -> list[Pair]:
    """Pair every HQ face with its restored output (or the reason there is none)."""
    outputs = {(ref.subset, ref.name): out.path for ref, out in match(hq, restored).pairs}
    pairs = []
    for ref in hq:
        key = (ref.subset, ref.name)
        error = "" if key in outputs else failures.get(key, "no output")
        pairs.append(Pair(ref.subset, ref.name, ref.path, outputs.get(key), landmarks.get(key), error))
    return pairs


class PairedScorer:
    """Loaded metrics and ID backbone for one process; a metric that cannot load is listed as unavailable (its
    reason with `$TORCH_HOME`/`$FACEBOARD_CACHE` for the local roots, so the outputs read the same on every machine)."""

    def __init__(self, full: list[str], no_ref: dict[str, dict], backbone: str | None, device: str,
                 size: int = 512) -> None:
        self.size = size
        self.full, self.no_ref, self.unavailable = {}, {}, {}
        for name in full:
            try:
                self.full[name] = table.load(name, device=device, modes=(FULL_REFERENCE,))
            except MetricUnavailable as err:
                self.unavailable[name] = portable(str(err))
        for name, options in no_ref.items():
            if table.get(name).set_metric:
                self.unavailable[name] = f"{name}: a set metric (one value over a whole dataset), not computed here"
                continue
            try:
                self.no_ref[name] = table.load(name, options, device)
            except MetricUnavailable as err:
                self.unavailable[name] = portable(str(err))
        self.backbone = None
        if backbone is not None:
            from faceboard.identity.backbones import load_backbone

            self.backbone = load_backbone(backbone, device)
        self.device = device
        # every row gets each column, computed or not (NaN where unavailable); set metrics have none
        self.columns = [*full, *([ID_SIM_HQ] if backbone else []),
                        *(n for n in no_ref if not table.get(n).set_metric)]

    def score(self, method: str, pairs: list[Pair], batch_size: int = 8, desc: str = "paired") -> list[dict]:
        rows = []
        with progress(len(pairs), desc) as advance:
            for start in range(0, len(pairs), batch_size):
                batch = pairs[start:start + batch_size]
                rows += self._score_batch(method, batch)
                advance(len(batch))
        for row in rows:
            for column in self.columns:
                row.setdefault(column, float("nan"))
        return rows

    def provenance(self) -> dict:
        return {
            "full_reference": {n: m.provenance() for n, m in self.full.items()},
            "metrics": {n: m.provenance() for n, m in self.no_ref.items()},
            "unavailable_metrics": self.unavailable,
            "id_backbone": self.backbone.provenance() if self.backbone else None,
            "id_alignment": "5 landmarks detected on the HQ face (MTCNN), applied to HQ and restored faces",
            "device": self.device,
        }

    def _score_batch(self, method: str, pairs: list[Pair]) -> list[dict]:
        size = (self.size, self.size)
        rows, read = read_rows(method, pairs, lambda pair: (read_rgb_checked(pair.restored, size),
                                                            read_rgb_checked(pair.hq, size)))
        if not read:
            return rows
        kept = [(pair, row) for pair, row, _ in read]
        ok_rows = [row for _, row in kept]
        restored, hq = ([images[k] for *_, images in read] for k in (0, 1))
        out_batch, ref_batch = to_batch(restored), to_batch(hq)
        scorers = {**{name: lambda i, j, m=metric: m(out_batch[i:j], ref_batch[i:j])
                      for name, metric in self.full.items()},
                   **{name: lambda i, j, m=metric: m(out_batch[i:j]) for name, metric in self.no_ref.items()}}
        for name, score in scorers.items():
            for row, value in zip(ok_rows, split_per_image(score, ok_rows, name), strict=True):
                row[name] = float("nan") if value is None else float(value)
        if self.backbone is not None:
            self._identity(kept, restored, hq)
        return rows

    def _identity(self, kept: list[tuple[Pair, dict]], restored: list[np.ndarray], hq: list[np.ndarray]) -> None:
        found = [i for i, (pair, _) in enumerate(kept) if pair.landmarks is not None]
        for pair, row in kept:
            if pair.landmarks is None:
                row[ID_SIM_HQ] = float("nan")
                row["error"] = _join(row["error"], "identity: no face found on the HQ image")
        if not found:
            return
        points = [kept[i][0].landmarks for i in found]
        try:
            reference = self.backbone.embed([hq[i] for i in found], points)
            embedded = self.backbone.embed([restored[i] for i in found], points)
        except ValueError as err:
            for i in found:
                kept[i][1][ID_SIM_HQ] = float("nan")
                kept[i][1]["error"] = _join(kept[i][1]["error"], f"identity: {err}")
            return
        for i, sim in zip(found, cosine_similarity(reference, embedded)):
            kept[i][1][ID_SIM_HQ] = float(sim)


def _join(error: str, more: str) -> str:
    return f"{error}; {more}" if error else more
