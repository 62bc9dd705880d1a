"""Lazy plugins: entries are `"module:callable"` strings, imported only when used.

Listing methods, metrics or backbones therefore never imports torch.
"""

from __future__ import annotations

import importlib
from typing import Any


def resolve(entry: str) -> Any:
    """Import `module:attribute` and return the attribute."""
    module_name, sep, attr = entry.partition(":")
    if not sep or not module_name or not attr:
        raise ValueError(f"plugin entry {entry!r} is not of the form 'module:callable'")
    module = importlib.import_module(module_name)
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ImportError(f"module {module_name!r} has no attribute {attr!r} (entry {entry!r})") from None


def unknown(kind: str, name: str, known: Any) -> KeyError:
    """A KeyError that tells the user which names exist."""
    return KeyError(f"unknown {kind} {name!r}; known: {', '.join(sorted(known))}")
