"""Five-point face landmarks per image, in the NTIRE 2025 CSV format.

Columns: `filename` (stem, kept as text: `0020` stays `0020`), `dataset` (subset folder),
`x1,y1,x2,y2` (face box), then LANDMARK_COLUMNS: eyes, nose and mouth corners as x, y pairs.

A row whose landmark cells are empty, non-numeric or not finite fails only its own image: `load_landmarks`
keeps it out of the points and `lookup` raises its reason. Points outside the image fail their image too
(`require_inside`): alignment from them is meaningless.
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

class LandmarkError(ValueError):
    """A landmark file or lookup that cannot be used."""


class Landmarks(dict[tuple[str, str], np.ndarray]):
    """{(subset, name): float32 (5, 2) points}; `unusable` maps the keys of rows without usable points to why."""

    def __init__(self) -> None:
        super().__init__()
        self.unusable: dict[tuple[str, str], str] = {}


def load_landmarks(csv_path: str | os.PathLike[str]) -> Landmarks:
    """Read a landmark CSV into {(subset, name): float32 (5, 2) array}, rows with unusable points aside;
    raises LandmarkError when the file as a whole cannot be used (unreadable, columns or names missing,
    duplicate keys)."""
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
    dupes = table[table.duplicated(["dataset", "filename"], keep=False)]
    if len(dupes):
        keys = sorted({f"{d}/{f}" for d, f in zip(dupes["dataset"], dupes["filename"], strict=True)})
        raise LandmarkError(f"{csv_path}: duplicate entries for {', '.join(keys)}")
    values = table[list(LANDMARK_COLUMNS)].apply(lambda col: pd.to_numeric(col.str.strip(), errors="coerce"))
    finite = np.isfinite(values.to_numpy(np.float64))
    points = values.to_numpy(np.float32).reshape(-1, 5, 2)
    result = Landmarks()
    for row, key in enumerate(zip(table["dataset"], table["filename"], strict=True)):
        if finite[row].all():
            result[key] = points[row].copy()
        else:
            cells = {c: table.at[row, c] for c, ok in zip(LANDMARK_COLUMNS, finite[row], strict=True) if not ok}
            result.unusable[key] = (f"{csv_path}: non-numeric or missing landmarks for {key[0]}/{key[1]} "
                                    f"(data row {row + 1}): {cells}; fix that row")
    return result


def lookup(landmarks: dict[tuple[str, str], np.ndarray], subset: str, name: str) -> np.ndarray:
    """The (5, 2) points of subset/name; for the flat subset `all`, the unique entry with that name.

    LandmarkError when there is no such row, it is ambiguous, or its points are unusable (`Landmarks.unusable`).
    """
    unusable = getattr(landmarks, "unusable", {})
    key = (subset, name)
    if key not in landmarks and key not in unusable and subset == FLAT_SUBSET:
        found = [k for k in (*landmarks, *unusable) if k[1] == name]
        if len(found) > 1:
            raise LandmarkError(f"ambiguous landmarks for {name}: in subsets {sorted(s for s, _ in found)}")
        key = found[0] if found else key
    if key in unusable:
        raise LandmarkError(unusable[key])
    if key not in landmarks:
        raise LandmarkError(f"no landmarks for {subset}/{name}: the landmark CSV has no row for it; add one")
    return landmarks[key]


def require_inside(points: np.ndarray, width: int, height: int, image: str) -> np.ndarray:
    """`points` when every one lies in the width x height image (0 <= x <= width, 0 <= y <= height);
    LandmarkError naming `image` and the coordinates outside otherwise."""
    limits = np.array([width, height], np.float64)
    outside = ~((points >= 0) & (points <= limits)).ravel()  # NaN counts as outside
    if outside.any():
        cells = ", ".join(f"{c}={v:g}" for c, v, bad in zip(LANDMARK_COLUMNS, points.ravel(), outside, strict=True)
                          if bad)
        raise LandmarkError(f"landmarks for {image} outside its {width}x{height} image ({cells}): alignment from "
                            "them is meaningless; fix its row in the landmark CSV")
    return points


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
