"""Which LQ set a run scored, and whether it is an edition's official split with the organisers' landmarks.

Checked from content, not names: every LQ file is hashed and compared with the catalog's digest list of
each official split (params.yaml `datasets.<split>`, the part landing in `lq`), and the landmark CSV's
sha256 with that split's pinned landmark digest. The same record serves the DAG and `faceboard score`.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from faceboard.config import Params, PartConfig
from faceboard.datasets.manifest import read_checksums
from faceboard.files import sha256_file
from faceboard.layout import ImageRef, content_digest
from faceboard.protocol import Protocol


def describe(name: str, lq: list[ImageRef], landmarks: dict[str, Any] | None, params: Params, root: Path,
             protocol: Protocol) -> dict[str, Any]:
    """The scored LQ set: name, counts per subset, a digest of its content, the landmarks' origin, and the
    official split of `protocol` it is (or why it is none)."""
    digests = {f"{ref.subset}/{ref.path.name}": sha256_file(ref.path) for ref in lq}
    split, why = _official_split(digests, params, root, protocol)
    landmark_digest = (landmarks or {}).get("sha256")
    official_digest = _landmarks_digest(params, split) if split else None
    return {
        "name": name,
        "protocol": protocol.name,
        "images": len(lq),
        "subsets": dict(sorted(Counter(ref.subset for ref in lq).items())),
        "lq_sha256": content_digest(lq),
        "official_split": split,
        "not_official_because": why,
        "landmarks": landmarks or {"source": "none"},
        "official_landmarks": bool(official_digest) and landmark_digest == official_digest,
    }


def _official_split(digests: dict[str, str], params: Params, root: Path,
                    protocol: Protocol) -> tuple[str | None, str]:
    """The official split whose digest list the LQ files match exactly, or None and the closest mismatch."""
    best: tuple[int, str, int] | None = None
    for split in protocol.splits:
        listed = _lq_digests(params, split, root)
        if listed is None:
            continue
        if digests == listed:
            return split, ""
        matching = sum(digests.get(path) == digest for path, digest in listed.items())
        if best is None or matching > best[0]:
            best = (matching, split, len(listed))
    if best is None:
        return None, f"{protocol.name} has no official split with a digest list in the catalog"
    matching, split, total = best
    return None, f"{len(digests)} LQ images, {matching} matching the {total} digests of the official split {split}"


def _lq_digests(params: Params, split: str, root: Path) -> dict[str, str] | None:
    part = _part(params, split, "lq")
    if part is None or not part.checksums or not (root / part.checksums).is_file():
        return None  # no digests to check against: nothing can be shown to be this split
    return read_checksums(root / part.checksums)


def _landmarks_digest(params: Params, split: str) -> str | None:
    part = _part(params, split, "landmarks.csv")
    return part.sha256 if part else None


def _part(params: Params, split: str, into: str) -> PartConfig | None:
    """The catalog part of `split` that lands at `into`, if the catalog has that split and part."""
    config = params.datasets.get(split)
    return next((part for part in (config.source.parts if config else ()) if part.into == into), None)
