"""5-point similarity alignment, as the official ID check does it (skimage estimate + cv2.warpAffine)."""

from __future__ import annotations

import cv2
import numpy as np
from skimage.transform import SimilarityTransform

#: ArcFace / MTCNN ``default_square=True`` reference points for a 112x112 crop:
#: left eye, right eye, nose, mouth left, mouth right (image-left first, as in landmarks.csv).
REFERENCE_112: np.ndarray = np.array(
    [
        [38.2946, 51.6963],
        [73.5318, 51.5014],
        [56.0252, 71.7366],
        [41.5493, 92.3655],
        [70.7299, 92.2041],
    ],
    dtype=np.float32,
)


def check_landmarks(landmarks5: np.ndarray) -> np.ndarray:
    """Return `landmarks5` as a (5, 2) float64 array; ValueError if the shape is wrong or a value is not finite."""
    points = np.asarray(landmarks5, dtype=np.float64)
    if points.shape != (5, 2):
        raise ValueError(f"landmarks must have shape (5, 2) (x, y per point), got {points.shape}")
    if not np.isfinite(points).all():
        raise ValueError(f"landmarks must be finite, got {points.tolist()}")
    return points


def similarity_transform(src: np.ndarray, dst: np.ndarray) -> np.ndarray:
    """Least-squares (Umeyama) similarity mapping `src` points onto `dst` points, as a 2x3 float64 matrix."""
    tform = SimilarityTransform.from_estimate(np.asarray(src, np.float64), np.asarray(dst, np.float64))
    if not tform:
        raise ValueError(f"similarity transform estimation failed: {tform}")
    return np.asarray(tform.params[:2], dtype=np.float64)


def align_face(
    image_rgb: np.ndarray,
    landmarks5: np.ndarray,
    size: int = 112,
    reference: np.ndarray = REFERENCE_112,
) -> np.ndarray:
    """Warp `image_rgb` so its 5 landmarks land on `reference` scaled by size/112; a (size, size, 3) uint8 crop."""
    if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
        raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image_rgb.dtype} {image_rgb.shape}")
    points = check_landmarks(landmarks5)
    matrix = similarity_transform(points, np.asarray(reference, np.float64) * (size / 112.0))
    return cv2.warpAffine(image_rgb, matrix, (size, size), flags=cv2.INTER_LINEAR, borderValue=0.0)
