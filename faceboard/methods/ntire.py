"""The `ntire` kind: a team's challenge code, plugged in unchanged.

The NTIRE 2025 challenge repository calls each team's `model_func(model_dir=..., input_path=...,
output_path=..., device=...)` once per subset folder: `input_path` holds the LQ PNGs, the function
writes restored PNGs of the same names into `output_path`, `device` is a `torch.device`. faceboard
does the same, into a temporary folder whose images it then validates (every expected image present,
readable, 512x512) before taking them into the method's output.

Options: `model_dir` (the team's `model_zoo/<team>` folder; relative paths are taken from the project
root) and, for the generic `ntire` type, `entry` (`module:function`, importable from the project root).
"""

from __future__ import annotations

from pathlib import Path

from faceboard.methods.registry import MethodSpec
from faceboard.plugins import resolve


class NtireCall:
    """One method's `model_func`, bound to its model folder and device: `call(input_path, output_path)`."""

    def __init__(self, spec: MethodSpec, options: dict, device: str, root: Path | None) -> None:
        allowed = {"model_dir"} if spec.entry else {"model_dir", "entry"}
        extra = set(options) - allowed
        if extra:
            raise ValueError(f"unknown options for {spec.name}: {sorted(extra)} (known: {sorted(allowed)})")
        entry = spec.entry or options.get("entry")
        if not entry:
            raise ValueError(f"method type {spec.name!r} needs option `entry` (module:function)")
        self.model_func = resolve(entry)
        self.model_dir = _model_dir(options.get("model_dir"), root)
        self.device = device

    def __call__(self, input_path: str, output_path: str) -> None:
        import torch

        self.model_func(model_dir=self.model_dir, input_path=input_path, output_path=output_path,
                        device=torch.device(self.device))


def _model_dir(value: str | None, root: Path | None) -> str | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    if not path.exists():
        raise FileNotFoundError(f"model_dir {path} does not exist")
    return str(path)
