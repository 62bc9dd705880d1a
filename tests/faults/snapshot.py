"""Checksums of every file under a folder, to show that a fault lost or altered no earlier result."""

from __future__ import annotations

import hashlib
from pathlib import Path


def checksums(folder: Path) -> dict[str, str]:
    """`relative path -> sha256` of every file under `folder` (hidden temp files of atomic writes included)."""
    return {p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(Path(folder).rglob("*")) if p.is_file()}


def unchanged(before: dict[str, str], folder: Path) -> list[str]:
    """What of `before` is now missing or different under `folder` (empty when every earlier file is intact)."""
    after = checksums(folder)
    return sorted(name for name, digest in before.items() if after.get(name) != digest)
