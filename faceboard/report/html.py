"""Render leaderboard.parquet + run.json into a self-contained static HTML page, with the paired track's
leaderboard and a gallery of the degradation presets when they exist."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
from jinja2 import Environment, PackageLoader, select_autoescape

from faceboard.catalog import BoardFiles
from faceboard.degrade.presets import PRESETS
from faceboard.imageio import read_rgb
from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images
from faceboard.metrics.table import METRICS
from faceboard.scoring.leaderboard import ALL

THUMB = 256  # gallery: a face-centred crop of this many native pixels, as JPEG (quality 95)


def render(leaderboard: pd.DataFrame, per_image: pd.DataFrame, run: dict,
           paired: dict | None = None, gallery: dict | None = None) -> str:
    env = Environment(loader=PackageLoader("faceboard.report"), autoescape=select_autoescape(["html"]))
    env.filters["num"] = _num
    metrics = run["metrics"]
    arrows = {m: ("↓" if METRICS[m].lower_better else "↑") for m in metrics}
    overall = leaderboard[leaderboard["subset"] == ALL]
    subsets = leaderboard[leaderboard["subset"] != ALL]
    failures = per_image[(per_image["status"] == "failed") | (per_image["id_pass"] == False)]
    return env.get_template("leaderboard.html").render(
        run=run, metrics=metrics, arrows=arrows,
        overall=overall.to_dict("records"), subsets=subsets.to_dict("records"),
        failures=failures.to_dict("records"), paired=paired, gallery=gallery,
    )


def paired_section(board: BoardFiles) -> dict | None:
    """The paired leaderboard and its run record, or None when the paired track has not run."""
    if not board.leaderboard.is_file():
        return None
    run = json.loads(board.run_info.read_text())
    table = pd.read_parquet(board.leaderboard)
    arrows = {m: ("↓" if lower else "↑") for m, lower in run["lower_better"].items()}
    return {**run, "rows": table.to_dict("records"), "arrows": arrows}


def gallery_section(gallery_dir: Path) -> dict | None:
    """Thumbnails per HQ face: the HQ face and each preset's LQ version, centred on the face that
    `hq/landmarks.csv` places (None when there is no gallery)."""
    columns = [c for c in ("hq", *PRESETS) if (gallery_dir / c).is_dir()]
    if "hq" not in columns:
        return None
    centres = _face_centres(gallery_dir / "hq" / "landmarks.csv")
    rows = []
    for ref in list_images(gallery_dir / "hq"):
        centre = centres.get((ref.subset, ref.name))
        images = [_thumbnail(gallery_dir / c / ref.subset / f"{ref.name}.png", centre) for c in columns]
        rows.append({"name": ref.name, "images": images})
    return {"columns": columns, "rows": rows, "size": THUMB}


def write_report(board: BoardFiles, out: Path, paired: dict | None = None, gallery: dict | None = None) -> Path:
    run = json.loads(board.run_info.read_text())
    html = render(pd.read_parquet(board.leaderboard), pd.read_parquet(board.per_image), run, paired, gallery)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(html, encoding="utf-8")
    tmp.replace(out)
    return out


def _num(value: object, digits: int = 4) -> str:
    if value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value)):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _face_centres(landmarks_csv: Path) -> dict[tuple[str, str], np.ndarray]:
    if not landmarks_csv.is_file():
        return {}
    return {key: points.mean(axis=0) for key, points in load_landmarks(landmarks_csv).items()}


def _thumbnail(path: Path, centre: np.ndarray | None) -> str | None:
    """A THUMB x THUMB crop around `centre` (the image centre without one) as a JPEG data URI."""
    if not path.is_file():
        return None
    rgb = read_rgb(path)
    height, width = rgb.shape[:2]
    cx, cy = (width / 2, height / 2) if centre is None else centre
    x = int(min(max(cx - THUMB / 2, 0), max(width - THUMB, 0)))
    y = int(min(max(cy - THUMB / 2, 0), max(height - THUMB, 0)))
    crop = np.ascontiguousarray(rgb[y:y + THUMB, x:x + THUMB, ::-1])
    ok, data = cv2.imencode(".jpg", crop, [cv2.IMWRITE_JPEG_QUALITY, 95])
    return f"data:image/jpeg;base64,{base64.b64encode(data.tobytes()).decode()}" if ok else None
