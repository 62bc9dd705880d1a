"""LQ embeddings computed once per (backbone, LQ image bytes, landmarks) and reused across methods."""

from __future__ import annotations

import hashlib
import os
import tempfile
from pathlib import Path

import numpy as np


class EmbeddingCache:
    def __init__(self, folder: Path, backbone: str) -> None:
        self.folder = folder / "embeddings" / backbone
        self.hits = 0
        self.misses = 0

    def key(self, image_sha256: str, landmarks: np.ndarray) -> str:
        points = hashlib.sha256(np.asarray(landmarks, dtype=np.float32).tobytes()).hexdigest()[:16]
        return f"{image_sha256}-{points}"

    def get(self, key: str) -> np.ndarray | None:
        path = self.folder / f"{key}.npy"
        if path.is_file():
            self.hits += 1
            return np.load(path)
        self.misses += 1
        return None

    def put(self, key: str, embedding: np.ndarray) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=self.folder, suffix=".npy.tmp")
        with os.fdopen(fd, "wb") as fh:
            np.save(fh, np.asarray(embedding, dtype=np.float32))
        os.replace(tmp, self.folder / f"{key}.npy")
