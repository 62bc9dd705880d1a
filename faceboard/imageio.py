"""Strict image reading and atomic PNG writing for restored-face submissions.

Decoding uses OpenCV on the file's bytes (so paths with spaces or non-ASCII characters work).
OpenCV 5 rejects truncated PNG, JPEG, WebP and BMP files outright (it returns no image), which
is stricter than Pillow: Pillow accepts a PNG missing its IEND chunk. Pixels are normalised to
uint8 RGB:

- grayscale (and 1-bit) images are replicated to three channels;
- palette images are expanded to their colours;
- an alpha channel (RGBA, LA, palette transparency) is dropped, not composited;
- 16-bit images are scaled to 8 bits as round(x / 257), so x * 257 round-trips exactly;
- float or other pixel types are rejected;
- EXIF orientation is ignored: pixels are taken in stored order.

The format is recognised from the content, not the extension.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import cv2
import numpy as np

from faceboard.files import write_bytes_atomic

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")


class ImageError(ValueError):
    """An image that cannot be used; the message names the file and the problem."""

    def __init__(self, path: str | os.PathLike[str], problem: str) -> None:
        self.path = Path(path)
        self.problem = problem
        super().__init__(f"{self.path}: {problem}")


def is_image_file(path: str | os.PathLike[str]) -> bool:
    """Whether the name ends in one of IMAGE_EXTENSIONS (any case)."""
    return Path(path).suffix.lower() in IMAGE_EXTENSIONS


def read_bytes(path: str | os.PathLike[str]) -> tuple[bytes, str]:
    """A file's bytes and their sha256; raises ImageError when it is missing, not a file or empty."""
    path = Path(path)
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ImageError(path, "missing") from None
    except IsADirectoryError:
        raise ImageError(path, "not a file (a directory)") from None
    except OSError as exc:
        raise ImageError(path, f"unreadable: {exc.strerror or exc}") from None
    if not data:
        raise ImageError(path, "empty file (0 bytes)")
    return data, hashlib.sha256(data).hexdigest()


def decode_rgb(data: bytes, path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file's bytes to a contiguous uint8 HxWx3 RGB array; `path` names it in errors."""
    pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    if pixels is None or pixels.size == 0:
        raise ImageError(path, f"corrupt, truncated or unsupported image data ({len(data)} bytes)")
    return _to_rgb8(Path(path), pixels)


def require_size(rgb: np.ndarray, path: str | os.PathLike[str], size: tuple[int, int]) -> np.ndarray:
    """`rgb` if it is (width, height) `size`; raises ImageError naming both sizes otherwise."""
    height, width = rgb.shape[:2]
    if (width, height) != tuple(size):
        raise ImageError(path, f"wrong size: got {width}x{height}, expected {size[0]}x{size[1]}")
    return rgb


def read_rgb(path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file to a contiguous uint8 HxWx3 RGB array; raises ImageError."""
    return decode_rgb(read_bytes(path)[0], path)


def read_rgb_checked(path: str | os.PathLike[str], size: tuple[int, int] = (512, 512)) -> np.ndarray:
    """read_rgb, then require the (width, height) `size`; raises ImageError on mismatch."""
    return require_size(read_rgb(path), path, size)


def to_batch(images: list[np.ndarray]):
    """Same-size uint8 RGB images -> an (N,3,H,W) float torch tensor in [0,1], the metrics' input."""
    import torch

    return torch.from_numpy(np.stack(images)).permute(0, 3, 1, 2).float().div_(255.0)


def write_png_atomic(path: str | os.PathLike[str], rgb: np.ndarray) -> None:
    """Write a uint8 HxWx3 RGB array as PNG: a hidden temp file in the same folder, then os.replace."""
    path = Path(path)
    if path.suffix.lower() != ".png":
        raise ImageError(path, "write_png_atomic needs a .png path")
    if not isinstance(rgb, np.ndarray) or rgb.dtype != np.uint8 or rgb.ndim != 3 or rgb.shape[2] != 3:
        got = f"{rgb.dtype} {rgb.shape}" if isinstance(rgb, np.ndarray) else type(rgb).__name__
        raise ImageError(path, f"expected a uint8 HxWx3 RGB array, got {got}")
    ok, encoded = cv2.imencode(".png", np.ascontiguousarray(rgb[:, :, ::-1]))
    if not ok:
        raise ImageError(path, "PNG encoding failed")
    write_bytes_atomic(path, encoded.tobytes())


def _to_rgb8(path: Path, pixels: np.ndarray) -> np.ndarray:
    """Normalise OpenCV's decoded BGR(A)/gray array of any supported depth to uint8 RGB."""
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)  # exact round(x / 257)
    elif pixels.dtype != np.uint8:
        raise ImageError(path, f"unsupported pixel type {pixels.dtype} (only 8- and 16-bit integer images)")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.repeat(pixels[:, :, None], 3, axis=2))
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        return np.ascontiguousarray(pixels[:, :, 2::-1])  # BGR(A) -> RGB, alpha dropped
    raise ImageError(path, f"unsupported channel layout {pixels.shape}")
