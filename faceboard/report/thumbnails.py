"""A board's gallery thumbnails: for each image, its LQ input and every method's output as a small image, kept as a
Parquet table beside the board so the page is built from tables alone (faceboard.report.page).

Columns of the table: `column` (`input`, a method, `hq` or a degradation preset), `subset`, `image`, `mime`, `data`
(the encoded bytes). Its schema metadata `faceboard` records the budget, how many images there were and how many
were left out for it.
"""

from __future__ import annotations

import base64
import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from itertools import zip_longest
from pathlib import Path

import cv2
import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from faceboard.config import ReportConfig
from faceboard.degrade.presets import PRESETS
from faceboard.files import write_bytes_atomic
from faceboard.imageio import ImageError, read_rgb
from faceboard.landmarks import load_landmarks
from faceboard.layout import scan
from faceboard.scoring.leaderboard import failed_rows

Key = tuple[str, str]  # (subset, image)
INPUT = "input"  # the column of the LQ inputs
MIME = "image/webp"
META = b"faceboard"
PRESET_CROP, PRESET_QUALITY = 256, 90  # the degradation gallery: native pixels, so the degradation shows
COLUMNS = ["column", "subset", "image", "mime", "data"]


@dataclass(frozen=True)
class Gallery:
    """The thumbnails and what was left out of them."""

    table: pd.DataFrame
    record: dict

    @property
    def note(self) -> str | None:
        """One sentence for the page when the budget left images out."""
        r = self.record
        if not r.get("left_out"):
            return None
        return (f"{r['shown']} of {r['images']} images shown: all would take about {r['needed_mb']:.1f} MB, over the "
                f"{r['budget_mb']:g} MB budget (params.yaml report.gallery_mb); images a method failed on come first, "
                "then an even share of each subset.")


def resized(rgb: np.ndarray, px: int) -> np.ndarray:
    """The whole image scaled to `px` pixels on its longer side."""
    scale = px / max(rgb.shape[:2])
    size = (max(1, round(rgb.shape[1] * scale)), max(1, round(rgb.shape[0] * scale)))
    return cv2.resize(rgb, size, interpolation=cv2.INTER_AREA)


def face_crop(rgb: np.ndarray, centre: np.ndarray | None, px: int) -> np.ndarray:
    """A `px` x `px` crop at native resolution around `centre` (the image centre without one)."""
    height, width = rgb.shape[:2]
    cx, cy = (width / 2, height / 2) if centre is None else centre
    x = int(min(max(cx - px / 2, 0), max(width - px, 0)))
    y = int(min(max(cy - px / 2, 0), max(height - px, 0)))
    return np.ascontiguousarray(rgb[y:y + px, x:x + px])


def encode(rgb: np.ndarray, quality: int) -> bytes:
    """RGB pixels as WebP bytes."""
    ok, data = cv2.imencode(".webp", np.ascontiguousarray(rgb[..., ::-1]), [cv2.IMWRITE_WEBP_QUALITY, quality])
    if not ok:
        raise ValueError("WebP encoding failed")
    return data.tobytes()


def build(columns: Mapping[str, Mapping[Key, Path]], order: Iterable[Key], config: ReportConfig,
          crop: Mapping[Key, np.ndarray | None] | None = None) -> Gallery:
    """Thumbnails of every image in `order`, in that order, for each column that has it, until the next image
    would take the gallery over `config.gallery_mb` (counted as the page holds them: base64).

    A file that cannot be read has no thumbnail (the page says so). With `crop` ({key: face centre}) each
    thumbnail is a native-resolution crop around the face, otherwise the whole image scaled down."""
    budget = config.gallery_mb * 1e6
    order = list(order)
    rows: list[dict] = []
    used, shown = 0, 0
    for key in order:
        images = [(name, _thumbnail(paths.get(key), config, crop, key)) for name, paths in columns.items()]
        size = sum(len(data_uri(MIME, data)) for _, data in images if data is not None)
        if used + size > budget:  # this image and every later one are left out
            break
        used += size
        shown += 1
        rows += [{"column": name, "subset": key[0], "image": key[1], "mime": MIME, "data": data}
                 for name, data in images if data is not None]
    needed = used if shown == len(order) else used / max(shown, 1) * len(order)  # estimated from those shown
    record = {"images": len(order), "shown": shown, "left_out": len(order) - shown, "budget_mb": config.gallery_mb,
              "used_mb": round(used / 1e6, 3), "needed_mb": round(needed / 1e6, 3),
              "thumbnail_px": config.thumbnail_px, "quality": config.quality, "columns": list(columns)}
    return Gallery(pd.DataFrame(rows, columns=COLUMNS), record)


def of_board(per_image: pd.DataFrame, inputs: Path | None, outputs: Mapping[str, Path],
             config: ReportConfig) -> Gallery:
    """The board's gallery: each image of `per_image` from the LQ folder `inputs` (if any) and each method's output
    folder (`outputs`); images a method failed on (processing or the identity gate) first."""
    failed = failed_rows(per_image)
    keys = zip(per_image["subset"], per_image["image"])
    columns = {INPUT: files_in(inputs) if inputs else {}, **{method: files_in(folder) for method, folder in outputs.items()}}
    return build(columns, priority(keys, zip(failed["subset"], failed["image"])), config)


def of_presets(gallery_dir: Path, config: ReportConfig) -> Gallery | None:
    """The degradation gallery (tasks/degrade.py): each HQ face and each preset's LQ version, cropped around the
    face its landmarks place; None without one."""
    columns = {c: files_in(gallery_dir / c) for c in ("hq", *PRESETS) if (gallery_dir / c).is_dir()}
    if "hq" not in columns:
        return None
    marks = gallery_dir / "hq" / "landmarks.csv"
    centres = {key: points.mean(axis=0) for key, points in load_landmarks(marks).items()} if marks.is_file() else {}
    crop = config.model_copy(update={"thumbnail_px": PRESET_CROP, "quality": PRESET_QUALITY})
    return build(columns, sorted(columns["hq"]), crop, crop={key: centres.get(key) for key in columns["hq"]})


def files_in(folder: Path) -> dict[Key, Path]:
    """{(subset, image): path} of the images in `folder` (none when it does not exist)."""
    return {(r.subset, r.name): r.path for r in scan(folder).images} if Path(folder).is_dir() else {}


def priority(keys: Iterable[Key], first: Iterable[Key] = ()) -> list[Key]:
    """`first` (in its order), then the rest taken in turn from each subset, so that a budget cut keeps an
    even share of every subset."""
    first = list(dict.fromkeys(first))
    seen = set(first)
    per_subset: dict[str, list[Key]] = {}
    for key in sorted(set(keys) - seen):
        per_subset.setdefault(key[0], []).append(key)
    spread = [key for turn in zip_longest(*per_subset.values()) for key in turn if key is not None]
    return first + spread


def data_uri(mime: str, data: bytes) -> str:
    """An image as the page holds it."""
    return f"data:{mime};base64,{base64.b64encode(data).decode()}"


def write(gallery: Gallery, path: Path) -> None:
    table = pa.Table.from_pandas(gallery.table, preserve_index=False)
    table = table.replace_schema_metadata({**(table.schema.metadata or {}), META: json.dumps(gallery.record)})
    sink = pa.BufferOutputStream()
    pq.write_table(table, sink)
    write_bytes_atomic(path, sink.getvalue().to_pybytes())


def read(path: Path) -> Gallery | None:
    """The thumbnails at `path`, or None when there are none."""
    if not Path(path).is_file():
        return None
    table = pq.read_table(path)
    record = json.loads((table.schema.metadata or {}).get(META, b"{}"))
    return Gallery(table.to_pandas(), record)


def _thumbnail(path: Path | None, config: ReportConfig, crop: Mapping[Key, np.ndarray | None] | None,
               key: Key) -> bytes | None:
    if path is None or not Path(path).is_file():
        return None
    try:
        rgb = read_rgb(path)
    except ImageError:
        return None
    pixels = resized(rgb, config.thumbnail_px) if crop is None else face_crop(rgb, crop.get(key), config.thumbnail_px)
    return encode(pixels, config.quality)

