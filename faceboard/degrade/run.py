"""Degrade HQ images into LQ PNGs: one seeded generator per image, optional worker processes,
one parameter record per image.

An image's generator is seeded from the global seed and its key `<subset>/<name>` only, so its LQ
bytes depend on nothing else: not on the order, the shard or the process that degrades it.
"""

from __future__ import annotations

import hashlib
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from itertools import repeat
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pandas as pd

from faceboard.degrade.presets import Ranges, resolve
from faceboard.files import sha256_file, write_parquet_atomic
from faceboard.imageio import ImageError, read_rgb, write_png_atomic
from faceboard.layout import ImageRef
from faceboard.progress import progress


@dataclass(frozen=True)
class Setting:
    """A degradation run: the preset, its resolved ranges, the global seed, the LQ size."""

    preset: str
    ranges: Ranges
    seed: int
    size: int = 512

    @classmethod
    def of(cls, preset: str, overrides: dict[str, Any] | None, seed: int, size: int = 512) -> Setting:
        if seed < 0:
            raise ValueError(f"seed must be >= 0, got {seed}")
        return cls(preset, resolve(preset, overrides), seed, size)


def image_rng(seed: int, key: str) -> np.random.Generator:
    """The generator of one image: PCG64 from SeedSequence(global seed, sha256 of the key)."""
    words = np.frombuffer(hashlib.sha256(key.encode()).digest(), dtype="<u4")
    return np.random.Generator(np.random.PCG64(np.random.SeedSequence([seed, *map(int, words)])))


def lq_path(out_dir: Path, ref: ImageRef) -> Path:
    return out_dir / ref.subset / f"{ref.name}.png"


def degrade_image(ref: ImageRef, out_dir: Path, setting: Setting) -> dict[str, Any]:
    """Degrade one HQ image into `out_dir/<subset>/<name>.png`; return its parameter record.

    A square HQ image of another size is first resized to `setting.size` (OpenCV INTER_AREA).
    """
    from faceboard.degrade.pipelines import (  # basicsr loads only where images are degraded
        apply,
        sample,
    )

    hq = read_rgb(ref.path)
    height, width = hq.shape[:2]
    if height != width:
        raise ImageError(ref.path, f"HQ faces must be square, got {width}x{height}")
    if width != setting.size:
        hq = cv2.resize(hq, (setting.size, setting.size), interpolation=cv2.INTER_AREA)
    record = sample(setting.ranges, image_rng(setting.seed, f"{ref.subset}/{ref.name}"))
    path = lq_path(out_dir, ref)
    write_png_atomic(path, apply(hq, record, setting.ranges))
    return {"subset": ref.subset, "image": ref.name, "preset": setting.preset, "seed": setting.seed,
            "hq_size": width, **record, "lq_sha256": sha256_file(path)}


def degrade_images(refs: list[ImageRef], out_dir: Path, setting: Setting, workers: int = 1,
                   desc: str = "degrade") -> list[dict[str, Any]]:
    """Degrade `refs` in this process (`workers` <= 1) or in that many worker processes; records in `refs` order."""
    with progress(len(refs), desc) as advance:
        if workers <= 1 or len(refs) <= 1:
            rows = []
            for ref in refs:
                rows.append(degrade_image(ref, out_dir, setting))
                advance(1)
            return rows
        # A fresh forkserver (basicsr imported once there) never inherits the caller's threads.
        context = multiprocessing.get_context("forkserver")
        context.set_forkserver_preload(["faceboard.degrade.kernels"])
        chunk = max(1, len(refs) // (workers * 4))
        with ProcessPoolExecutor(workers, mp_context=context, initializer=_one_thread) as pool:
            rows = []
            for row in pool.map(degrade_image, refs, repeat(out_dir), repeat(setting), chunksize=chunk):
                rows.append(row)
                advance(1)
            return rows


def write_records(rows: list[dict[str, Any]], path: Path) -> pd.DataFrame:
    """One row per image, sorted by (subset, image), written atomically as Parquet."""
    table = pd.DataFrame(rows).sort_values(["subset", "image"], kind="stable").reset_index(drop=True)
    write_parquet_atomic(path, table)
    return table


def copy_png(ref: ImageRef, out_dir: Path) -> Path:
    """`ref` re-encoded as `out_dir/<subset>/<name>.png` (for galleries and HQ copies)."""
    path = lq_path(out_dir, ref)
    write_png_atomic(path, read_rgb(ref.path))
    return path


def _one_thread() -> None:
    """Worker processes share the cores: one OpenCV thread each (the bytes do not depend on it)."""
    cv2.setNumThreads(1)

