"""Methods the method tests register: a module of its own, light to import in a spawned worker process."""

from __future__ import annotations

import json
import os
import shutil
import time
from pathlib import Path

import numpy as np


def ntire_model(model_dir, input_path, output_path, device):
    """The challenge signature: skips one image, writes another at the wrong size, sharpens the rest."""
    import cv2

    with open(Path(model_dir) / "calls.jsonl", "a") as log:
        log.write(json.dumps({"input": input_path, "files": sorted(p.name for p in Path(input_path).iterdir()),
                              "device": f"{type(device).__module__}.{type(device).__name__}:{device}",
                              "cwd": os.getcwd(), "pid": os.getpid()}) + "\n")
    for path in sorted(Path(input_path).glob("*.png")):
        image = cv2.imread(str(path))
        if path.stem == "163639":
            continue
        if path.stem == "0020":
            image = image[:256, :256]
        cv2.imwrite(str(Path(output_path) / path.name), cv2.addWeighted(image, 1.5, cv2.GaussianBlur(image, (0, 0), 2), -0.5, 0))


def ntire_hangs_after_one(model_dir, input_path, output_path, device):
    """Writes its first image, then (on CelebA's images) hangs."""
    for path in sorted(Path(input_path).glob("*.png")):
        shutil.copyfile(path, Path(output_path) / path.name)
        if path.stem == "162798":
            time.sleep(3600)


def fails_to_load(options, device):
    raise RuntimeError("checkpoint is corrupt")


def hangs_on_marked(options, device):
    def restore(images):
        if any(im[0, 0, 0] == 255 and im[0, 0, 1] == 0 for im in images):
            time.sleep(3600)
        return images
    return restore


def noisy(options, device):
    import torch

    def restore(images):
        noise = torch.randint(0, 50, (len(images), 1, 1, 3)).numpy().astype(np.uint8)
        return [np.clip(im.astype(int) + n + np.random.randint(0, 50), 0, 255).astype(np.uint8)
                for im, n in zip(images, noise)]
    return restore


def one_at_a_time(options, device):
    def restore(images):
        if len(images) != 1:
            raise RuntimeError(f"got a batch of {len(images)}")
        return images
    return restore


def inverts_on_cuda(options, device):
    import torch

    if not device.startswith("cuda"):
        raise RuntimeError(f"expected a CUDA device, got {device!r}")

    def restore(images):
        batch = torch.from_numpy(np.stack(images)).to(device)
        return list((255 - batch).cpu().numpy())
    return restore
