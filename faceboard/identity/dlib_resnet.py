"""dlib's 128-d face-recognition ResNet on chips aligned with the official 5 LQ landmarks.

Chip geometry. dlib's network expects the chip ``dlib.get_face_chip(size=150, padding=0.25)``
cuts from its own 5-point predictor (eye corners + nose base). The official landmarks are the
MTCNN points (eye centres, nose tip, mouth corners), so the chip reference is
``REFERENCE_112 * CHIP_SCALE + CHIP_SHIFT`` in 150x150 chip pixels, with scale and shift the
least-squares fit of REFERENCE_112 onto the mean position of the official landmarks inside
dlib's own chips (dlib frontal detector + ``shape_predictor_5_face_landmarks.dat`` +
``get_face_chip_details``), over the 423 of 450 NTIRE 2025 val LQ faces dlib detects:
scale 1.472, shift (-8.07, -32.04), rotation 0.09 deg, max residual 2.8 px. Agreement with dlib's
own chips (cosine of descriptors, same 423 faces): mean 0.9945, 5th percentile 0.9860 for this
geometry, against 0.9039 / 0.8691 for the naive ``REFERENCE_112 * 150/112``; a grid over
scale 1.40-1.54 and shift -36..-28 found nothing better than 0.9948. (Fitted with the earlier direct
landmarks -> reference fit; the official cp2tform fit faceboard uses now makes chips ~2% larger on median.)

Thresholds. The official per-subset thresholds belong to AdaFace IR-50 and do not transfer. dlib's live in
params.yaml (`datasets.*.subsets.*.id_threshold.dlib_resnet`) and come from `faceboard calibrate-gate`
(faceboard/identity/calibration.py: impostor outputs against other people's LQ inputs, genuine pairs of
several restorers), whose table is committed as data/calibration/dlib_resnet.csv.
"""

from __future__ import annotations

import importlib.metadata
import importlib.util
from pathlib import Path
from typing import Any

import cv2
import dlib
import numpy as np

from faceboard.files import sha256_file
from faceboard.identity.align import REFERENCE_112, align_face
from faceboard.identity.backbones import BACKBONES, BackboneSpec

CHIP_SIZE = 150
CHIP_SCALE = 1.47
CHIP_SHIFT = (-8.0, -32.0)
#: Where the official 5 points sit in a 150x150 dlib chip.
CHIP_REFERENCE_150: np.ndarray = (REFERENCE_112 * CHIP_SCALE + np.array(CHIP_SHIFT, np.float32)).astype(np.float32)

WEIGHTS_FILE = "dlib_face_recognition_resnet_model_v1.dat"
BATCH = 32  # chips per network call

def weights_path(file_name: str = WEIGHTS_FILE) -> Path:
    """A model file shipped by the face_recognition_models package.

    Found through the package's import spec without importing it: its __init__ imports pkg_resources.
    """
    spec = importlib.util.find_spec("face_recognition_models")
    if spec is None or not spec.submodule_search_locations:
        raise FileNotFoundError(
            "package face_recognition_models is not installed (pip install face-recognition-models)"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "models" / file_name
    if not path.is_file():
        raise FileNotFoundError(f"{path} missing from the face_recognition_models package")
    return path


class DlibResNet:
    """dlib ResNet face descriptor. dlib fixes its device when it is built (CPU for dlib-bin),
    so `device` is recorded in provenance but does not select hardware."""

    spec: BackboneSpec = BACKBONES["dlib_resnet"]

    def __init__(self, device: str = "cpu") -> None:
        self.device = device
        self._weights = weights_path()
        self._net = dlib.face_recognition_model_v1(str(self._weights))

    def chips(self, images_rgb: list[np.ndarray], landmarks: list[np.ndarray]) -> list[np.ndarray]:
        """The 150x150 RGB chips the network sees."""
        if len(images_rgb) != len(landmarks):
            raise ValueError(f"{len(images_rgb)} images but {len(landmarks)} landmark sets")
        reference = CHIP_REFERENCE_150 * (112.0 / CHIP_SIZE)  # align_face scales by size/112
        return [align_face(img, lm, CHIP_SIZE, reference) for img, lm in zip(images_rgb, landmarks, strict=True)]

    def embed(self, images_rgb: list[np.ndarray], landmarks: list[np.ndarray]) -> np.ndarray:
        """(N, 128) float32 L2-normalised descriptors."""
        chips = self.chips(images_rgb, landmarks)
        rows = [
            np.asarray(vec, dtype=np.float64)
            for start in range(0, len(chips), BATCH)
            for vec in self._net.compute_face_descriptor(chips[start : start + BATCH])
        ]
        out = np.asarray(rows, dtype=np.float64).reshape(len(chips), self.spec.embedding_dim)
        return (out / np.linalg.norm(out, axis=1, keepdims=True)).astype(np.float32)

    def provenance(self) -> dict[str, Any]:
        return {
            "backbone": self.spec.name,
            "official": self.spec.official,
            "weights": {self._weights.name: sha256_file(self._weights)},
            "alignment": {"chip_size": CHIP_SIZE, "scale": CHIP_SCALE, "shift": list(CHIP_SHIFT)},
            "device": "cuda" if dlib.DLIB_USE_CUDA else "cpu",
            "libraries": {
                "dlib": dlib.__version__,
                "face_recognition_models": importlib.metadata.version("face_recognition_models"),
                "opencv": cv2.__version__,
                "numpy": np.__version__,
            },
        }
