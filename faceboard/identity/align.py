"""5-point face alignment exactly as the official NTIRE 2025 ID check does it.

The organisers align with the MTCNN ``warp_and_crop_face`` (MATLAB ``cp2tform(..., 'similarity')``
port) and ``cv2.warpAffine``; see tests/fixtures/official_alignment/SOURCE.md. This is an
independent implementation of the same arithmetic: both point sets are rounded to float32, a
non-reflective similarity mapping the reference onto the landmarks is fitted by linear least
squares in float64, a second one onto the x-mirrored reference is composed with the mirror, one
of the two is kept (rule in `similarity_transform`) and inverted to map landmarks onto the reference.
"""

from __future__ import annotations

import cv2
import numpy as np

#: The 96x112 ArcFace reference points (MTCNN ``REFERENCE_FACIAL_POINTS``).
REFERENCE_96X112: tuple[tuple[float, float], ...] = (
    (30.29459953, 51.69630051),
    (65.53179932, 51.50139999),
    (48.02519989, 71.73660278),
    (33.54930115, 92.3655014),
    (62.72990036, 92.20410156),
)

#: ``default_square=True`` reference for a 112x112 crop (the 96x112 set shifted 8 px right), in float32
#: as the official code fits it: left eye, right eye, nose, mouth left, mouth right (image-left first,
#: as in landmarks.csv).
REFERENCE_112: np.ndarray = (np.array(REFERENCE_96X112, np.float64) + (8.0, 0.0)).astype(np.float32)

#: Fitted landmark/reference scale below which the landmarks are taken to coincide.
MIN_SCALE = 1e-6


def check_landmarks(landmarks5: np.ndarray) -> np.ndarray:
    """Return `landmarks5` as a (5, 2) float64 array; ValueError if the shape is wrong or a value is not finite."""
    points = np.asarray(landmarks5, dtype=np.float64)
    if points.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2) (x, y per point), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"landmarks must be finite, got {points.tolist()}")
    return points


def _inverse_of_fit(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """2x3 map src -> dst: the inverse of the least-squares non-reflective similarity dst -> src.

    The fit is u = a*x + b*y + tx, v = -b*x + a*y + ty over (x, y) in `dst`, (u, v) in `src`.
    """
    x, y = dst[:, 0], dst[:, 1]
    one, zero = np.ones_like(x), np.zeros_like(x)
    design = np.concatenate([np.stack([x, y, one, zero], axis=1), np.stack([y, -x, zero, one], axis=1)])
    if np.linalg.matrix_rank(design) < 4:
        raise ValueError(f"reference points must not coincide, got {dst.tolist()}")
    (a, b, tx, ty), *_ = np.linalg.lstsq(design, np.concatenate([src[:, 0], src[:, 1]]), rcond=None)
    scale2 = a * a + b * b
    if not scale2 > MIN_SCALE**2:
        raise ValueError(f"landmarks must not (nearly) coincide, got {src.tolist()}")
    inverse = np.array([[a, -b], [b, a]]) / scale2
    return np.hstack([inverse, -(inverse @ (tx, ty))[:, None]])


def _apply(matrix: np.ndarray, points: np.ndarray) -> np.ndarray:
    return points @ matrix[:, :2].T + matrix[:, 2]


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """The official (cp2tform 'similarity') 2x3 float64 matrix mapping `src` points onto `dst` points.

    Both (K, 2) point sets are rounded to float32 first, as the official code does. ValueError if
    either set is degenerate (coinciding points).
    """
    src = np.asarray(src, np.float32).astype(np.float64)
    dst = np.asarray(dst, np.float32).astype(np.float64)
    if src.ndim != 2 or src.shape[1] != 2 or src.shape != dst.shape or len(src) < 3:
        raise ValueError(f"expected two (K, 2) point sets with K >= 3, got {src.shape} and {dst.shape}")
    mirrored = dst * (-1.0, 1.0)
    direct = _inverse_of_fit(src, dst)
    reflective = _inverse_of_fit(src, mirrored) * ((-1.0,), (1.0,))  # fit to the mirror, then undo it
    # The official findSimilarity mirrors its target array in place before scoring the two fits, so
    # both residuals are measured against the MIRRORED reference; the reflective fit is kept only when
    # its residual is strictly smaller. Reproduced as executed, not as MATLAB intended.
    residual_direct = np.linalg.norm(_apply(direct, src) - mirrored)
    residual_reflective = np.linalg.norm(_apply(reflective, src) - mirrored)
    return direct if residual_direct <= residual_reflective else reflective


def align_face(
    image_rgb: np.ndarray,
    landmarks5: np.ndarray,
    size: int = 112,
    reference: np.ndarray = REFERENCE_112,
) -> np.ndarray:
    """Warp `image_rgb` so its 5 landmarks land on `reference` scaled by size/112; a (size, size, 3) uint8 crop.

    Bilinear ``cv2.warpAffine`` with a black border, as the official check.
    """
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image_rgb.dtype} {image_rgb.shape}")
    points = check_landmarks(landmarks5)
    matrix = similarity_transform(points, np.asarray(reference, np.float64) * (size / 112.0))
    return cv2.warpAffine(image_rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
