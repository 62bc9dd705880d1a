"""Five-point landmarks of the LQ images: from a CSV when one is given, otherwise detected on each LQ
image and written in the official CSV format, so a later run can pass them as `--landmarks` and
get the same scores."""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from faceboard.files import sha256_file
from faceboard.identity.detect import default_detector
from faceboard.imageio import ImageError, read_rgb
from faceboard.landmarks import (
    LandmarkError,
    Landmarks,
    load_landmarks,
    write_landmarks,
)
from faceboard.layout import ImageRef
from faceboard.progress import progress
from faceboard.scoring.per_image import Item

DETECTED_CSV = "landmarks_detected.csv"


@dataclass
class LQLandmarks:
    """Points per (subset, name), why there are none for some images, and where they came from."""

    points: Landmarks
    failures: dict[tuple[str, str], str]
    record: dict[str, Any]


def landmarks_for(lq: list[ImageRef], csv: str | Path | None, out_dir: Path) -> LQLandmarks:
    """The CSV's landmarks, or with no CSV the ones detect_folder finds (written to out_dir)."""
    if csv is None:
        return detect_folder(lq, out_dir / DETECTED_CSV)
    return LQLandmarks(load_landmarks(csv), {}, {"source": "csv", "path": str(csv), "sha256": sha256_file(csv)})


def detect_folder(lq: list[ImageRef], csv_path: Path) -> LQLandmarks:
    """Detect the main face of each LQ image; write the faces found to `csv_path`."""
    detector = default_detector()
    points = Landmarks()
    failures: dict[tuple[str, str], str] = {}
    rows = []
    with progress(len(lq), "detect landmarks") as advance:
        for ref in lq:
            key = (ref.subset, ref.name)
            try:
                face = detector.detect(read_rgb(ref.path))
            except (ImageError, LandmarkError) as err:
                failures[key] = f"landmark detection on the LQ image: {err}"
            else:
                points[key] = face.points.astype("float32")  # as load_landmarks reads them back
                rows.append((ref.subset, ref.name, face.box, face.points))
            advance(1)
    write_landmarks(csv_path, rows)
    record = {"source": "detected", "path": str(csv_path), "detector": detector.provenance(),
              "not_found": [f"{subset}/{name}" for subset, name in failures]}
    return LQLandmarks(points, failures, record)


def with_failures(items: list[Item], failures: dict[tuple[str, str], str]) -> list[Item]:
    """Items whose LQ face was not found fail with the detector's reason (a missing output stays 'no output')."""
    return [
        replace(item, error=failures[(item.subset, item.name)])
        if (item.subset, item.name) in failures and item.output is not None else item
        for item in items
    ]
