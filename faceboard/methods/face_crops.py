"""How the face restorers (GFPGAN, CodeFormer) see a 512x512 NTIRE face crop.

- `aligned` (the default): the crop goes into the network as it is, batched, as the authors' scripts
  do for aligned faces (`--aligned` / `--has_aligned`);
- otherwise the authors' whole-image path, through facexlib's FaceRestoreHelper: RetinaFace (ResNet-50)
  finds the face nearest the centre, it is aligned to the FFHQ template, restored, and pasted back
  under a ParseNet face mask. An image where no face is found is returned unchanged.

The detection and parsing networks load from faceboard's weight table (strict, tensor-only); facexlib's
own loaders, which download on a miss, are bypassed.
"""

from __future__ import annotations

from collections.abc import Callable
from unittest import mock

import cv2
import numpy as np
import torch

from faceboard.methods.registry import Restorer
from faceboard.methods.torch_support import (
    load_checkpoint,
    load_strict,
    to_images,
    to_tensor,
)

FaceNet = Callable[[torch.Tensor], torch.Tensor]  # (N, 3, 512, 512) RGB in [-1, 1] -> the same
DETECTOR = "facexlib_detection_resnet50"
PARSER = "facexlib_parsing_parsenet"
FACE_SIZE = 512
EYE_DIST_MIN = 5  # pixels: the authors' scripts skip smaller detections (side or tiny faces)


def face_restorer(net: FaceNet, aligned: bool, device: str, dtype: torch.dtype,
                  detect_size: int | None = None) -> Restorer:
    """A Restorer running `net` on crops (aligned) or on the detected face; `detect_size`: detector input side."""
    if aligned:
        def restore_crops(images: list[np.ndarray]) -> list[np.ndarray]:
            with torch.no_grad():
                return to_images(net(to_tensor(images, device, dtype)))

        return restore_crops

    helper = _face_helper(device)

    def restore_faces(images: list[np.ndarray]) -> list[np.ndarray]:
        return [_paste_restored(helper, net, image, device, dtype, detect_size) for image in images]

    return restore_faces


def _paste_restored(helper, net: FaceNet, image: np.ndarray, device: str, dtype: torch.dtype,
                    detect_size: int | None) -> np.ndarray:
    helper.clean_all()
    helper.read_image(cv2.cvtColor(image, cv2.COLOR_RGB2BGR))
    with torch.no_grad():
        found = helper.get_face_landmarks_5(only_center_face=True, resize=detect_size,
                                            eye_dist_threshold=EYE_DIST_MIN)
        if not found:
            return np.array(image, copy=True)
        helper.align_warp_face()
        crop = cv2.cvtColor(helper.cropped_faces[0], cv2.COLOR_BGR2RGB)
        restored = to_images(net(to_tensor([crop], device, dtype)))[0]
    helper.add_restored_face(cv2.cvtColor(restored, cv2.COLOR_RGB2BGR))
    helper.get_inverse_affine()
    return cv2.cvtColor(helper.paste_faces_to_input_image(), cv2.COLOR_BGR2RGB)


def _face_helper(device: str):
    """facexlib's FaceRestoreHelper (output scale 1) around the detector and parser loaded here."""
    from facexlib.utils import face_restoration_helper

    where = torch.device(device)
    detector = load_strict(new_detector(where), _without_module_prefix(load_checkpoint(DETECTOR)), DETECTOR)
    parser = load_strict(new_parser(), load_checkpoint(PARSER), PARSER)
    # the helper builds its networks through facexlib's downloading loaders: hand it these instead
    with mock.patch.multiple(face_restoration_helper, init_detection_model=lambda *a, **k: detector.to(where),
                             init_parsing_model=lambda *a, **k: parser.to(where)):
        return face_restoration_helper.FaceRestoreHelper(
            1, face_size=FACE_SIZE, crop_ratio=(1, 1), det_model="retinaface_resnet50", save_ext="png",
            use_parse=True, device=where)


def new_detector(device: torch.device) -> torch.nn.Module:
    """facexlib's RetinaFace ResNet-50 (the authors' `retinaface_resnet50`), untrained."""
    from facexlib.detection.retinaface import RetinaFace

    return RetinaFace(network_name="resnet50", half=False, device=device)


def new_parser() -> torch.nn.Module:
    """facexlib's ParseNet for 512 px faces, 19 classes (the authors' paste-back parser), untrained."""
    from facexlib.parsing.parsenet import ParseNet

    return ParseNet(in_size=FACE_SIZE, out_size=FACE_SIZE, parsing_ch=19)


def _without_module_prefix(state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
    """RetinaFace's released checkpoint was saved from DataParallel: keys start with `module.`."""
    return {k.removeprefix("module."): v for k, v in state.items()}
