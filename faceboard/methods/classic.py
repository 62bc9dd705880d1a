"""Restorers that need no weights: the identity baseline and a classic OpenCV pipeline."""

from __future__ import annotations

import cv2
import numpy as np

from faceboard.methods.registry import Restorer


def identity(options: dict, device: str) -> Restorer:
    """The `lq` baseline: returns each input unchanged."""
    if options:
        raise ValueError(f"method lq takes no options, got {sorted(options)}")
    return lambda images: [np.array(im, copy=True) for im in images]


def nlm_sharpen(options: dict, device: str) -> Restorer:
    """Non-local-means colour denoising followed by an unsharp mask (CPU only)."""
    h = float(options.get("h", 6))
    template = int(options.get("template_window", 7))
    search = int(options.get("search_window", 21))
    amount = float(options.get("sharpen_amount", 0.8))
    sigma = float(options.get("sharpen_sigma", 2.0))
    extra = set(options) - {"h", "template_window", "search_window", "sharpen_amount", "sharpen_sigma"}
    if extra:
        raise ValueError(f"unknown options for opencv_nlm_sharpen: {sorted(extra)}")

    def restore(images: list[np.ndarray]) -> list[np.ndarray]:
        out = []
        for rgb in images:
            den = cv2.fastNlMeansDenoisingColored(rgb, None, h, h, template, search)
            blur = cv2.GaussianBlur(den, (0, 0), sigma)
            out.append(cv2.addWeighted(den, 1.0 + amount, blur, -amount, 0))
        return out

    return restore
