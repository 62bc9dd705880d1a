"""Image operations of the degradation pipelines, on HxWx3 float32 RGB images in [0, 1].

Blur, resizing and JPEG use OpenCV as the GFPGAN and CodeFormer datasets do (Real-ESRGAN's GPU
versions, torch `interpolate` and DiffJPEG, are replaced by their OpenCV counterparts). Noise is
drawn from the generator passed in, never from a global RNG.
"""

from __future__ import annotations

from collections.abc import Sequence

import cv2
import numpy as np

INTERPOLATION = {"area": cv2.INTER_AREA, "bilinear": cv2.INTER_LINEAR, "bicubic": cv2.INTER_CUBIC}


def to_float(rgb: np.ndarray) -> np.ndarray:
    return rgb.astype(np.float32) / np.float32(255.0)


def to_uint8(img: np.ndarray) -> np.ndarray:
    """Round and clip to 8 bits, as the datasets do before an LQ image is used."""
    return np.clip(np.rint(img * 255.0), 0, 255).astype(np.uint8)


def blur(img: np.ndarray, kernel: np.ndarray) -> np.ndarray:
    """Correlate with `kernel` (reflected borders, as cv2.filter2D and basicsr's filter2D)."""
    return cv2.filter2D(img, -1, kernel)


def resize(img: np.ndarray, width: int, height: int, mode: str) -> np.ndarray:
    return cv2.resize(img, (max(1, width), max(1, height)), interpolation=INTERPOLATION[mode])


def gaussian_noise(img: np.ndarray, sigma: float, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """Add N(0, sigma/255) noise (one value for all channels when `gray`) and clip."""
    shape = img.shape[:2] + ((1,) if gray else (img.shape[2],))
    noise = rng.standard_normal(shape, dtype=np.float32) * np.float32(sigma / 255.0)
    return np.clip(img + noise, 0.0, 1.0)


def poisson_noise(img: np.ndarray, scale: float, gray: bool, rng: np.random.Generator) -> np.ndarray:
    """basicsr's Poisson noise: counts at 2^ceil(log2(#levels)) of the 8-bit image, times `scale`, clipped."""
    base = cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)[:, :, None] if gray else img
    base = np.clip(np.rint(base * 255.0), 0, 255) / 255.0
    levels = 2.0 ** np.ceil(np.log2(len(np.unique(base))))
    noise = (rng.poisson(base * levels) / levels - base).astype(np.float32)
    return np.clip(img + noise * np.float32(scale), 0.0, 1.0)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    """JPEG round trip through OpenCV at an integer quality (8-bit, BGR order inside the codec)."""
    ok, data = cv2.imencode(".jpg", to_uint8(img)[:, :, ::-1], [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:
        raise RuntimeError(f"JPEG encoding failed at quality {quality}")
    return to_float(cv2.imdecode(data, cv2.IMREAD_COLOR)[:, :, ::-1])


def shift_colours(img: np.ndarray, shift: Sequence[float]) -> np.ndarray:
    """Add one offset per RGB channel (0-255 scale) and clip."""
    return np.clip(img + np.asarray(shift, np.float32) / np.float32(255.0), 0.0, 1.0)


def to_gray(img: np.ndarray) -> np.ndarray:
    return np.repeat(_gray(img)[:, :, None], 3, axis=2)


def adjust_colours(img: np.ndarray, order: Sequence[str], factors: dict[str, float]) -> np.ndarray:
    """torchvision's brightness / contrast / saturation / hue adjustments (GFPGAN's `color_jitter_pt`), in
    `order`; written with NumPy and OpenCV so that no multi-threaded reduction can change a byte."""
    for name in order:
        factor = factors[name]
        if name == "brightness":
            img = _blend(img, np.float32(0.0), factor)
        elif name == "contrast":
            img = _blend(img, np.float32(_gray(img).mean(dtype=np.float64)), factor)
        elif name == "saturation":
            img = _blend(img, _gray(img)[:, :, None], factor)
        else:
            hsv = cv2.cvtColor(img, cv2.COLOR_RGB2HSV)  # float input: hue in degrees
            hsv[:, :, 0] = np.mod(hsv[:, :, 0] + np.float32(factor * 360.0), np.float32(360.0))
            img = cv2.cvtColor(hsv, cv2.COLOR_HSV2RGB)
    return img


def _gray(img: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(img, cv2.COLOR_RGB2GRAY)


def _blend(img: np.ndarray, other: np.ndarray, factor: float) -> np.ndarray:
    return np.clip(np.float32(factor) * img + np.float32(1.0 - factor) * other, 0.0, 1.0).astype(np.float32)


def usm_sharpen(img: np.ndarray) -> np.ndarray:
    """basicsr's unsharp mask (weight 0.5, radius 50, threshold 10), as Real-ESRGAN sharpens its HQ."""
    from faceboard.compat import patch_basicsr

    patch_basicsr()
    from basicsr.utils.img_process_util import usm_sharp

    return usm_sharp(img).astype(np.float32)
