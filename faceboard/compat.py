"""Import shims for pinned packages that lag behind torchvision.

basicsr 1.4.2 (which gfpgan builds on) imports `torchvision.transforms.functional_tensor`, a module
torchvision removed; its one used function, `rgb_to_grayscale`, lives on in
`torchvision.transforms.functional`. Call `patch_basicsr()` before importing basicsr or gfpgan.
"""

from __future__ import annotations

import sys
import types


def patch_basicsr() -> None:
    """Provide the removed torchvision module under its old name (idempotent)."""
    name = "torchvision.transforms.functional_tensor"
    if name in sys.modules:
        return
    try:
        import torchvision.transforms.functional_tensor  # noqa: F401 - an older torchvision still has it
        return
    except ImportError:
        pass
    from torchvision.transforms import functional

    shim = types.ModuleType(name)
    shim.rgb_to_grayscale = functional.rgb_to_grayscale
    sys.modules[name] = shim
