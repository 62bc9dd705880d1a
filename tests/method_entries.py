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


MARKS = {(0, 255, 0): "crash", (0, 0, 255): "nan", (255, 255, 0): "shape", (255, 0, 0): "hang"}


def faulty(options, device):
    """One-image batches only: crashes, returns NaNs, the wrong shape or hangs on images whose top-left pixel
    is marked (MARKS); copies the others."""
    def restore(images):
        (image,) = images
        fault = MARKS.get(tuple(int(v) for v in image[0, 0]))
        if fault == "crash":
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        if fault == "nan":
            return [np.full(image.shape, np.nan, np.float32)]
        if fault == "shape":
            return [image[:256]]
        if fault == "hang":
            time.sleep(3600)
        return [image]
    return restore


def team_dies(model_dir, input_path, output_path, device):
    """Writes one image and a relative file (landing in its working folder), starts a grandchild that would outlive
    it, then dies without a word."""
    import os
    import subprocess
    import sys

    first = min(Path(input_path).glob("*.png"))
    shutil.copyfile(first, Path(output_path) / first.name)
    Path("stray.txt").write_text("written in the current folder")
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(3600)"])
    Path(model_dir, "grandchild.pid").write_text(str(child.pid))
    os._exit(3)


def team_writes_a_pickle(model_dir, input_path, output_path, device):
    """Writes, under an expected image's name, a pickle that would run code if it were ever unpickled."""
    import pickle

    class Payload:
        def __reduce__(self):
            return (Path(model_dir, "unpickled").write_text, ("the payload ran",))

    first = min(Path(input_path).glob("*.png"))
    (Path(output_path) / first.name).write_bytes(pickle.dumps(Payload()))
