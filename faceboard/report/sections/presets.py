"""The degradation presets on each HQ face of the paired track: native-resolution crops around the face."""

from __future__ import annotations

from faceboard.report import thumbnails
from faceboard.report.sources import Sources


def load(src: Sources) -> dict | None:
    gallery = thumbnails.read(src.paired.thumbnails) if src.paired is not None else None
    if gallery is None or gallery.table.empty:
        return None
    columns = gallery.record["columns"]
    cells: dict[str, dict[str, str]] = {}
    for r in gallery.table.itertuples():
        cells.setdefault(r.image, {})[r.column] = thumbnails.data_uri(r.mime, r.data)
    rows = [{"name": name, "images": [by_column.get(c) for c in columns]} for name, by_column in cells.items()]
    return {"columns": columns, "rows": rows, "size": gallery.record["thumbnail_px"]}
