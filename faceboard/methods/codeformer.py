"""CodeFormer (S-Lab) with its released checkpoint, on 512x512 face crops.

Options:
- `w` (0.5, the NTIRE 2025 baseline): fidelity weight in [0, 1], lower = more of the codebook prior;
- `aligned` (True): the inputs are aligned face crops; False runs the detect, align, restore and
  paste-back path (see faceboard.methods.face_crops; detection on the image resized to 640 px, as
  the authors' script does);
- `fp16` (False): half precision, CUDA only.

The authors' script also turns the output grey when the input is nearly grey; faceboard does not.
"""

from __future__ import annotations

from faceboard.methods.codeformer_arch import CodeFormer
from faceboard.methods.face_crops import face_restorer
from faceboard.methods.registry import Restorer
from faceboard.methods.torch_support import (
    check_range,
    dtype_for,
    load_checkpoint,
    load_strict,
    take_options,
)

WEIGHT = "codeformer"
DEFAULTS = {"w": 0.5, "aligned": True, "fp16": False}
DETECT_SIZE = 640


def codeformer(options: dict, device: str) -> Restorer:
    opts = take_options("codeformer", options, DEFAULTS)
    check_range("codeformer", "w", opts["w"], 0.0, 1.0)
    dtype = dtype_for("codeformer", opts["fp16"], device)
    net = load_strict(CodeFormer(), load_checkpoint(WEIGHT, ("params_ema",)), WEIGHT).to(device=device, dtype=dtype)
    w = opts["w"]
    return face_restorer(lambda faces: net(faces, w=w, adain=True), opts["aligned"], device, dtype,
                         detect_size=DETECT_SIZE)
