"""Handing freed heap memory back to the operating system."""

from __future__ import annotations

import ctypes
import ctypes.util
import functools


@functools.cache
def _libc() -> ctypes.CDLL | None:
    name = ctypes.util.find_library("c")
    try:
        libc = ctypes.CDLL(name) if name else None
    except OSError:
        return None
    return libc if libc is not None and hasattr(libc, "malloc_trim") else None


def release_freed_memory() -> bool:
    """Ask glibc to return the free pages of every malloc arena (`malloc_trim(0)`); False where there is no glibc.

    Tensors of a few megabytes come and go with every batch; glibc keeps the freed pages in per-thread
    arenas, so a long scoring run's RSS creeps up by hundreds of MB unless they are returned now and then.
    """
    libc = _libc()
    if libc is None:
        return False
    libc.malloc_trim(0)
    return True
