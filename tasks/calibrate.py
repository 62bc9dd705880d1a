"""`faceboard calibrate-gate`: thresholds of a non-official ID backbone from restorers' outputs on a fetched
dataset (faceboard.identity.calibration), written as the committed calibration table."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from faceboard.catalog import Catalog
from faceboard.config import Params
from faceboard.files import write_bytes_atomic
from faceboard.identity.backbones import load_backbone
from faceboard.identity.calibration import Targets, calibrate
from faceboard.imageio import read_rgb
from faceboard.landmarks import load_landmarks, lookup
from faceboard.layout import by_subset, list_images
from faceboard.progress import progress
from tasks.restore import restore_method


def calibrate_gate(params: Params, root: Path, dataset: str, backbone: str, methods: list[str],
                   submissions: Mapping[str, Path], device: str, targets: Targets | None = None) -> pd.DataFrame:
    """Restore the dataset with `methods` (resumable), embed every LQ input and output, write the table."""
    cat = Catalog(root)
    folder = cat.dataset(dataset)
    lq = {subset: sorted(refs, key=lambda r: r.name) for subset, refs in by_subset(list_images(folder / "lq")).items()}
    landmarks = load_landmarks(folder / "landmarks.csv")
    restorers = dict(submissions)
    for method in methods:
        restorers[method] = cat.calibration_restored(dataset, method)
        restore_method(method, params.methods[method], folder / "lq", restorers[method], root, device,
                       params.batch_size, seed=params.seed, security=params.security)
    model = load_backbone(backbone, device)
    embeddings: dict[str, dict[str, object]] = {name: {} for name in ("lq", *restorers)}
    with progress(len(embeddings) * sum(map(len, lq.values())), f"embed {backbone}") as advance:
        for subset, refs in lq.items():
            points = [lookup(landmarks, subset, ref.name) for ref in refs]  # LandmarkError names a missing row
            for name, images in (("lq", folder / "lq"), *restorers.items()):
                faces = [read_rgb(images / subset / ref.path.name) for ref in refs]
                embeddings[name][subset] = model.embed(faces, points)
                advance(len(refs))
    stems = {subset: [ref.name for ref in refs] for subset, refs in lq.items()}
    table = calibrate(embeddings.pop("lq"), embeddings, stems, targets or Targets())
    out = cat.gate_calibration(backbone)
    write_bytes_atomic(out, table.to_csv(index=False, float_format="%.6f").encode())
    return table
