"""LQ embeddings computed once per (backbone, LQ image bytes, landmarks) and reused across methods."""

from __future__ import annotations

import hashlib
import io
from pathlib import Path

import numpy as np

from faceboard.files import write_bytes_atomic


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
        buffer = io.BytesIO()
        np.save(buffer, np.asarray(embedding, dtype=np.float32))
        write_bytes_atomic(self.folder / f"{key}.npy", buffer.getvalue())
