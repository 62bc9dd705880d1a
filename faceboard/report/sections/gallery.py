"""The gallery: pick an image, see its LQ input beside every method's output (a before/after slider each) with that
image's metrics and ID similarity per method. The page's script draws it from one JSON block."""

from __future__ import annotations

import pandas as pd

from faceboard.report.sources import Sources, arrow
from faceboard.report.thumbnails import INPUT, data_uri
from faceboard.scoring.formula import finite


def load(src: Sources) -> dict | None:
    gallery = src.gallery
    if gallery is None or gallery.table.empty:
        return None
    thumbs: dict[str, dict[str, str]] = {}
    images: dict[str, None] = {}  # in the gallery's order
    for r in gallery.table.itertuples():
        key = f"{r.subset}/{r.image}"
        thumbs.setdefault(r.column, {})[key] = data_uri(r.mime, r.data)
        images[key] = None
    methods = [c for c in gallery.record["columns"] if c != INPUT]
    scores: dict[str, dict[str, dict]] = {}
    metrics = src.metrics
    for r in src.per_image.to_dict("records"):
        key = f"{r['subset']}/{r['image']}"
        if key in images:
            scores.setdefault(key, {})[r["method"]] = {
                "status": r["status"], "error": r.get("error") or "", "id_sim": _number(r.get("id_sim")),
                "id_pass": None if pd.isna(r.get("id_pass")) else bool(r["id_pass"]),
                "charged": r.get("charged") or "", **{m: _number(r.get(m)) for m in metrics if m in r}}
    data = {"input": INPUT, "methods": methods, "images": list(images), "thumbs": thumbs, "scores": scores,
            "metrics": [{"name": m, "arrow": arrow(m)} for m in metrics if m in src.per_image]}
    return {"data": data, "note": gallery.note, "record": gallery.record}


def _number(value: object) -> float | None:
    return float(value) if finite(value) else None
