"""Five-point face landmarks per image, in the NTIRE 2025 CSV format.

Columns: `filename` (stem, kept as text: `0020` stays `0020`), `dataset` (subset folder),
`x1,y1,x2,y2` (face box), then LANDMARK_COLUMNS: eyes, nose and mouth corners as x, y pairs.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable

import numpy as np
import pandas as pd

from faceboard.files import write_bytes_atomic
from faceboard.layout import FLAT_SUBSET

KEY_COLUMNS = ("filename", "dataset")
BOX_COLUMNS = ("x1", "y1", "x2", "y2")
LANDMARK_COLUMNS = (
    "left_eye_x", "left_eye_y", "right_eye_x", "right_eye_y", "nose_x", "nose_y",
    "mouth_left_x", "mouth_left_y", "mouth_right_x", "mouth_right_y",
)  # fmt: skip

Landmarks = dict[tuple[str, str], np.ndarray]


class LandmarkError(ValueError):
    """A landmark file or lookup that cannot be used."""


def load_landmarks(csv_path: str | os.PathLike[str]) -> Landmarks:
    """Read a landmark CSV into {(subset, name): float32 (5, 2) array}; raises LandmarkError."""
    try:
        table = pd.read_csv(csv_path, dtype=str, keep_default_na=False, encoding="utf-8-sig").fillna("")
    except (pd.errors.EmptyDataError, pd.errors.ParserError, UnicodeDecodeError) as exc:
        raise LandmarkError(f"{csv_path}: not a readable CSV: {exc}") from None
    absent = [c for c in (*KEY_COLUMNS, *LANDMARK_COLUMNS) if c not in table.columns]
    if absent:
        raise LandmarkError(f"{csv_path}: missing columns {', '.join(absent)}")
    unnamed = table.index[(table["filename"] == "") | (table["dataset"] == "")]
    if len(unnamed):
        raise LandmarkError(f"{csv_path}: empty filename or dataset in data row {unnamed[0] + 1}")
    values = table[list(LANDMARK_COLUMNS)].apply(lambda col: pd.to_numeric(col.str.strip(), errors="coerce"))
    bad = ~np.isfinite(values.to_numpy(np.float64)).all(axis=1)
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        cells = {c: table.at[row, c] for c in LANDMARK_COLUMNS if not np.isfinite(values.at[row, c])}
        raise LandmarkError(
            f"{csv_path}: non-numeric or missing landmarks for {table.at[row, 'dataset']}/"
            f"{table.at[row, 'filename']} (data row {row + 1}): {cells}"
        )
    dupes = table[table.duplicated(["dataset", "filename"], keep=False)]
    if len(dupes):
        keys = sorted({f"{d}/{f}" for d, f in zip(dupes["dataset"], dupes["filename"], strict=True)})
        raise LandmarkError(f"{csv_path}: duplicate entries for {', '.join(keys)}")
    points = values.to_numpy(np.float32).reshape(-1, 5, 2)
    return {
        (d, f): points[i].copy()
        for i, (d, f) in enumerate(zip(table["dataset"], table["filename"], strict=True))
    }


def lookup(landmarks: Landmarks, subset: str, name: str) -> np.ndarray:
    """The (5, 2) points of subset/name; for the flat subset `all`, the unique entry with that name."""
    if (subset, name) in landmarks:
        return landmarks[(subset, name)]
    if subset == FLAT_SUBSET:
        found = [key for key in landmarks if key[1] == name]
        if len(found) == 1:
            return landmarks[found[0]]
        if found:
            raise LandmarkError(f"ambiguous landmarks for {name}: in subsets {sorted(s for s, _ in found)}")
    raise LandmarkError(f"no landmarks for {subset}/{name}")


def write_landmarks(
    csv_path: str | os.PathLike[str], rows: Iterable[tuple[str, str, np.ndarray, np.ndarray]]
) -> None:
    """Write (subset, name, box (4,), points (5, 2)) rows atomically in the load_landmarks format."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow((*KEY_COLUMNS, *BOX_COLUMNS, *LANDMARK_COLUMNS))
    seen: set[tuple[str, str]] = set()
    for subset, name, box, points in rows:
        box, points = np.asarray(box, np.float64), np.asarray(points, np.float64)
        if not subset or not name or (subset, name) in seen:
            raise LandmarkError(f"{csv_path}: empty or duplicate key {subset!r}/{name!r}")
        if box.shape != (4,) or points.shape != (5, 2):
            raise LandmarkError(
                f"{csv_path}: {subset}/{name}: box {box.shape}, points {points.shape}; expected (4,), (5, 2)"
            )
        if not (np.isfinite(box).all() and np.isfinite(points).all()):
            raise LandmarkError(f"{csv_path}: {subset}/{name}: non-finite coordinates")
        seen.add((subset, name))
        writer.writerow((name, subset, *map(repr, box.tolist()), *map(repr, points.ravel().tolist())))
    write_bytes_atomic(csv_path, buffer.getvalue().encode("utf-8"))
