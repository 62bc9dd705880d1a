"""`faceboard method new NAME --kind KIND`: a working method in one new folder, `methods_contrib/<package>/`.

The folder holds the restorer stub (a light unsharp mask, so the method is not a no-op), its
registration (`method.yaml`, found by faceboard/methods/contrib.py) and an end-to-end test on the sample.
"""

from __future__ import annotations

import re
from pathlib import Path

from faceboard.methods import registry
from faceboard.methods.contrib import CONTRIB_DIR, REGISTRATION

KINDS = (registry.PYTHON, registry.NTIRE)
NAME = re.compile(r"[a-z][a-z0-9_-]*")

PYTHON_CODE = '''"""{name}: a faceboard method (kind python), scaffolded by `faceboard method new`.

faceboard calls `build(options, device)` once per worker (load your model there) and then the returned
`restore(images)` on batches: HxWx3 uint8 RGB arrays (512x512) in, restored arrays of the same shape
and dtype out, in order. The stub is a light unsharp mask; replace it with your model.
"""

from __future__ import annotations

import cv2
import numpy as np

DEFAULTS = {{"amount": 0.6, "sigma": 1.5}}


def build(options: dict, device: str):
    unknown = set(options) - set(DEFAULTS)
    if unknown:
        raise ValueError(f"unknown options for {name}: {{sorted(unknown)}} (known: {{sorted(DEFAULTS)}})")
    amount = float(options.get("amount", DEFAULTS["amount"]))
    sigma = float(options.get("sigma", DEFAULTS["sigma"]))

    def restore(images: list[np.ndarray]) -> list[np.ndarray]:
        return [cv2.addWeighted(im, 1.0 + amount, cv2.GaussianBlur(im, (0, 0), sigma), -amount, 0) for im in images]

    return restore
'''

NTIRE_CODE = '''"""{name}: a faceboard method with the NTIRE challenge signature (kind ntire), scaffolded by `faceboard method new`.

faceboard calls `main(model_dir, input_path, output_path, device)` once per subset folder, as the
challenge's test.py does: restore every PNG of `input_path` into a PNG of the same name in `output_path`.
`model_dir` is the method's `model_dir` option (None when unset), `device` a torch.device. The stub is
a light unsharp mask; replace it with your team's code (it runs unchanged).
"""

import os

import cv2

AMOUNT, SIGMA = 0.6, 1.5


def main(model_dir, input_path, output_path, device):
    os.makedirs(output_path, exist_ok=True)
    for name in sorted(os.listdir(input_path)):
        if name.lower().endswith(".png"):
            image = cv2.imread(os.path.join(input_path, name), cv2.IMREAD_COLOR)
            blurred = cv2.GaussianBlur(image, (0, 0), SIGMA)
            cv2.imwrite(os.path.join(output_path, name), cv2.addWeighted(image, 1 + AMOUNT, blurred, -AMOUNT, 0))
'''

REGISTRATION_YAML = '''# Registration of method type `{name}`: faceboard reads every {contrib}/*/{registration}
# (without importing the code) and adds the type to `faceboard methods`.
name: {name}
kind: {kind}
entry: {contrib}.{package}:{function}
description: {description}
needs_gpu: false    # true: on CUDA, waits until no other GPU method runs on that GPU
weights: []         # weight files it needs, by name from `faceboard weights status`
batch_size: null    # most images per call (null: params.yaml batch_size); ignored by ntire
version: "1"        # bump when the code changes its results: finished outputs are then redone
'''

TEST_CODE = '''"""End to end: the {name} method restores every image of faceboard's embedded sample."""

from pathlib import Path

import numpy as np

from faceboard.config import MethodConfig, SecurityConfig
from faceboard.env import find_root
from faceboard.imageio import read_rgb
from tasks.restore import restore_method

ROOT = find_root(Path(__file__).parent)
LQ = ROOT / "data" / "samples" / "ntire2025-val" / "lq"


def test_{package}_restores_the_sample(tmp_path):
    log = restore_method("{name}", MethodConfig(type="{name}"), LQ, tmp_path, ROOT,
                         security=SecurityConfig(team_code=True))  # needed by an ntire method, harmless otherwise
    assert len(log) == 10 and (log["status"] == "ok").all(), log[log["status"] != "ok"].to_dict("records")
    for row in log.itertuples():
        restored = read_rgb(tmp_path / row.subset / f"{{row.image}}.png").astype(int)
        assert restored.shape == (512, 512, 3)
        assert np.abs(restored - read_rgb(LQ / row.subset / f"{{row.image}}.png").astype(int)).mean() > 0.1
'''


def new_method(root: Path, name: str, kind: str) -> Path:
    """Write `methods_contrib/<package>/` for method type `name`; return the folder."""
    if not NAME.fullmatch(name):
        raise ValueError(f"method name {name!r}: use lower-case letters, digits, '-' and '_', starting with a letter")
    if kind not in KINDS:
        raise ValueError(f"kind {kind!r}: a new method is one of {', '.join(KINDS)}")
    if name in registry.methods(root):
        raise ValueError(f"method type {name!r} already exists (see `faceboard methods`)")
    package = name.replace("-", "_")
    folder = Path(root) / CONTRIB_DIR / package
    if folder.exists():
        raise FileExistsError(f"{folder} already exists")
    values = {"name": name, "kind": kind, "package": package, "contrib": CONTRIB_DIR, "registration": REGISTRATION,
              "function": "build" if kind == registry.PYTHON else "main",
              "description": f"{name} (a light unsharp mask until its real code is in)"}
    folder.mkdir(parents=True)
    (folder / "__init__.py").write_text((PYTHON_CODE if kind == registry.PYTHON else NTIRE_CODE).format(**values))
    (folder / REGISTRATION).write_text(REGISTRATION_YAML.format(**values))
    (folder / f"test_{package}.py").write_text(TEST_CODE.format(**values))
    return folder


def instructions(root: Path, folder: Path, name: str, kind: str) -> str:
    """What was written, how to test it and how to enable it."""
    rel = folder.relative_to(root).as_posix()
    code = "build(options, device) -> restore(images)" if kind == registry.PYTHON else \
        "main(model_dir, input_path, output_path, device)"
    files = {"__init__.py": f"{code}: replace the unsharp-mask stub with your method",
             REGISTRATION: "its registration (kind, entry, gpu, weights, batch size, version)",
             f"test_{folder.name}.py": f"its end-to-end test: .venv/bin/python -m pytest {rel}"}
    options = "" if kind == registry.PYTHON else "\n      options: {model_dir: model_zoo/<team folder>}   # optional"
    team_code = "" if kind == registry.PYTHON else "\n  security:\n    team_code: true   # kind ntire runs as team code"
    return "\n".join([f"created {rel}/ for method type `{name}` (kind {kind}):",
                      *(f"  {file:24} {what}" for file, what in files.items()),
                      "enable it under `methods:` in params.yaml, then run `faceboard run`:",
                      f"  methods:\n    {name}:\n      type: {name}{options}{team_code}"])
