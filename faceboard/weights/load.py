"""The one way faceboard reads a checkpoint: tensors only (`weights_only=True`), never a pickle that runs code.

`load_tensors` is faceboard's own `torch.load`; `tensors_only_loads` forces the same on the loads third-party
code (pyiqa, torchvision) makes within a block. A file that is not a tensors-only checkpoint is refused
with `UnsafeCheckpoint`, naming it.
"""

from __future__ import annotations

import contextlib
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from typing import Any
from unittest import mock

import torch

_ADVICE = ("Weights only load failed", "(1)", "(2)", "Check the documentation")  # torch's text around the reason


class UnsafeCheckpoint(pickle.UnpicklingError):
    """A checkpoint that cannot be read as tensors only: refused, never unpickled."""


def load_tensors(path: str | os.PathLike, allow: Iterable[Any] = (), map_location: Any = "cpu") -> Any:
    """`torch.load(path, weights_only=True)`, with the classes in `allow` accepted beside tensors and containers."""
    with torch.serialization.safe_globals(list(allow)):
        return _guarded(torch.load)(path, map_location=map_location)


@contextlib.contextmanager
def tensors_only_loads() -> Iterator[None]:
    """Within the block every `torch.load` is tensors-only (`weights_only=True`), whatever its caller asks."""
    with mock.patch.object(torch, "load", _guarded(torch.load)):
        yield


def _guarded(load: Callable[..., Any]) -> Callable[..., Any]:
    """`load` made tensors-only, refusing any other file with `UnsafeCheckpoint`."""

    def guarded(f: Any, *args: Any, **kwargs: Any) -> Any:
        try:
            return load(f, *args, **{**kwargs, "weights_only": True})
        except UnsafeCheckpoint:
            raise
        except (pickle.UnpicklingError, RuntimeError) as err:
            raise UnsafeCheckpoint(f"refused: {_name(f)} is not a tensors-only checkpoint ({_reason(err)}); "
                                   "faceboard never unpickles code") from err

    return guarded


def _reason(err: Exception) -> str:
    """torch's reason in one sentence, without its advice to load with `weights_only=False`."""
    lines = [line.strip() for line in str(err).splitlines() if line.strip()]
    detail = next((line for line in lines if not line.startswith(_ADVICE)), lines[0] if lines else type(err).__name__)
    return detail.removeprefix("WeightsUnpickler error: ").split(". ")[0].rstrip(".")


def _name(f: Any) -> str:
    return os.fspath(f) if isinstance(f, (str, os.PathLike)) else str(getattr(f, "name", f))
