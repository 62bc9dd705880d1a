"""Per-image results on disk, addressed by content: computed once, reused by every method and every run.

Keys name what produced a value (image bytes, and the model's options, weights digests and versions), so a
changed input or model never reads an old value. The cache is never a DVC output: deleting it only costs time.
"""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from faceboard.files import write_bytes_atomic


class ArrayCache:
    """Arrays under `folder/<key>.npy`, each written atomically."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder

    def get(self, key: str) -> np.ndarray | None:
        try:
            return np.load(self.folder / f"{key}.npy")
        except FileNotFoundError:
            return None

    def put(self, key: str, array: np.ndarray) -> None:
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(array))
        write_bytes_atomic(self.folder / f"{key}.npy", buffer.getvalue())


def embedding_key(image_sha256: str, landmarks: np.ndarray) -> str:
    """An ID embedding depends on the image and the landmarks it is aligned with."""
    points = hashlib.sha256(np.asarray(landmarks, dtype=np.float32).tobytes()).hexdigest()[:16]
    return f"{image_sha256}-{points}"
