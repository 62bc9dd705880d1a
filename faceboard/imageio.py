"""Strict image reading and atomic PNG writing for restored-face submissions.

Decoding works on the file's bytes (so paths with spaces or non-ASCII characters work). Pillow reads
the header first, without decoding: content it does not recognise as an image is refused, and so is an
image declaring more than MAX_PIXELS pixels (a decompression bomb: a small file that would decode to
gigabytes). OpenCV then decodes the pixels; OpenCV 5 rejects truncated PNG, JPEG, WebP and BMP files
outright (it returns no image), which is stricter than Pillow: Pillow accepts a PNG missing its IEND
chunk. Pixels are normalised to uint8 RGB:

- grayscale (and 1-bit) images are replicated to three channels;
- palette images are expanded to their colours;
- an alpha channel (RGBA, LA, palette transparency) is dropped, not composited;
- 16-bit images are scaled to 8 bits as round(x / 257), so x * 257 round-trips exactly;
- CMYK JPEGs (Adobe's inverted ones included) are converted by libjpeg, as Pillow converts them (within
  one level);
- float or other pixel types are rejected;
- EXIF orientation is ignored: pixels are taken in stored order, as pyiqa (`Image.open` without
  `exif_transpose`) and the official ID check (`Image.open(path).convert('RGB')`) read them. (`cv2.imread`
  with its default IMREAD_COLOR would rotate them; IMREAD_UNCHANGED, used here, does not.)

The format is recognised from the content, not the extension. Every refusal is an ImageError naming the
file, the problem and what to do.
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import cv2
import numpy as np
from PIL import Image

from faceboard.files import write_bytes_atomic

IMAGE_EXTENSIONS = (".png", ".jpg", ".jpeg", ".bmp", ".webp")
MAX_PIXELS = 50_000_000  # width x height above which an image is refused from its header, before decoding
RESAVE = "re-save it as an 8-bit RGB PNG"  # what to do about an image faceboard cannot use


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
        raise ImageError(path, f"empty file (0 bytes); {RESAVE}")
    return data, hashlib.sha256(data).hexdigest()


def decode_rgb(data: bytes, path: str | os.PathLike[str]) -> np.ndarray:
    """Decode an image file's bytes to a contiguous uint8 HxWx3 RGB array; `path` names it in errors.

    Raises ImageError only: unrecognised content, over MAX_PIXELS, undecodable, or an unsupported pixel type.
    """
    path = Path(path)
    kind = _header(data, path)
    try:
        pixels = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_UNCHANGED)
    except cv2.error as err:
        raise ImageError(path, f"OpenCV cannot decode this {kind} ({err.err}); {RESAVE}") from None
    if pixels is None or pixels.size == 0:
        raise ImageError(path, f"corrupt, truncated or unsupported {kind} data ({len(data)} bytes); {RESAVE}")
    return _to_rgb8(path, pixels)


def require_size(rgb: np.ndarray, path: str | os.PathLike[str], size: tuple[int, int]) -> np.ndarray:
    """`rgb` if it is (width, height) `size`; raises ImageError naming both sizes otherwise."""
    height, width = rgb.shape[:2]
    if (width, height) != tuple(size):
        raise ImageError(path, f"wrong size: got {width}x{height}, expected {size[0]}x{size[1]}; "
                               f"re-save it at {size[0]}x{size[1]}")
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


def _header(data: bytes, path: Path) -> str:
    """The format Pillow recognises in `data` from its header alone; ImageError when it recognises none, or
    the image declares more than MAX_PIXELS pixels."""
    too_large = f"faceboard refuses images over {MAX_PIXELS:,} pixels (MAX_PIXELS) before decoding them; {RESAVE}"
    try:
        with Image.open(io.BytesIO(data)) as image:
            kind, (width, height) = image.format or "image", image.size
    except Image.DecompressionBombError:  # over Pillow's own limit, which is above MAX_PIXELS
        raise ImageError(path, f"too large: the header declares over {2 * Image.MAX_IMAGE_PIXELS:,} pixels; "
                               f"{too_large}") from None
    except Exception:  # noqa: BLE001 - whatever Pillow's parsers raise, the header is not a usable image's
        raise ImageError(path, f"corrupt, truncated or not an image: no readable image header (PNG, JPEG, BMP, "
                               f"WebP) in its {len(data)} bytes; {RESAVE}") from None
    if width * height > MAX_PIXELS:
        raise ImageError(path, f"too large: the header declares {width}x{height} = {width * height:,} pixels; "
                               f"{too_large}")
    return kind


def _to_rgb8(path: Path, pixels: np.ndarray) -> np.ndarray:
    """Normalise OpenCV's decoded BGR(A)/gray array of any supported depth to uint8 RGB."""
    if pixels.dtype == np.uint16:
        pixels = ((pixels.astype(np.uint32) + 128) // 257).astype(np.uint8)  # exact round(x / 257)
    elif pixels.dtype != np.uint8:
        raise ImageError(path, f"unsupported pixel type {pixels.dtype} (only 8- and 16-bit integer images); {RESAVE}")
    if pixels.ndim == 3 and pixels.shape[2] == 1:
        pixels = pixels[:, :, 0]
    if pixels.ndim == 2:
        return np.ascontiguousarray(np.repeat(pixels[:, :, None], 3, axis=2))
    if pixels.ndim == 3 and pixels.shape[2] in (3, 4):
        return np.ascontiguousarray(pixels[:, :, 2::-1])  # BGR(A) -> RGB, alpha dropped
    raise ImageError(path, f"unsupported channel layout {pixels.shape}; {RESAVE}")
