"""`manifest.json` beside a dataset's data: every file with its size and sha256, plus where the data
came from and how it was verified. `sha256sum`-style lists pin the expected content of a part."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from faceboard.files import sha256_file, write_bytes_atomic

MANIFEST = "manifest.json"


def content(folder: Path) -> list[dict[str, Any]]:
    """[{file, size, sha256}] for every file under `folder` but the manifest, sorted by path."""
    files = sorted(p for p in folder.rglob("*") if p.is_file() and p.name != MANIFEST)
    return [{"file": p.relative_to(folder).as_posix(), "size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in files]


def write(folder: Path, record: dict[str, Any]) -> dict[str, Any]:
    """Write `record` plus the folder's content listing as `folder/manifest.json`."""
    manifest = {**record, "files": content(folder)}
    write_bytes_atomic(folder / MANIFEST, (json.dumps(manifest, indent=1) + "\n").encode())
    return manifest


def read(folder: Path) -> dict[str, Any] | None:
    path = folder / MANIFEST
    return json.loads(path.read_text()) if path.is_file() else None


def problems(folder: Path, manifest: dict[str, Any]) -> list[str]:
    """How `folder` differs from its manifest: missing, changed and unlisted files (empty: intact)."""
    listed = {entry["file"]: entry for entry in manifest.get("files", [])}
    found = {entry["file"]: entry for entry in content(folder)}
    issues = [f"missing {name}" for name in sorted(listed.keys() - found.keys())]
    issues += [f"unlisted {name}" for name in sorted(found.keys() - listed.keys())]
    issues += [f"changed {name}" for name in sorted(listed.keys() & found.keys())
               if (listed[name]["size"], listed[name]["sha256"]) != (found[name]["size"], found[name]["sha256"])]
    return issues


def read_checksums(path: Path) -> dict[str, str]:
    """A `sha256sum` list (`<hex>  <relative path>` per line; paths may hold spaces) as {path: hex}."""
    digests = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        digest, _, rest = line.partition(" ")
        name = rest[1:] if rest[:1] in (" ", "*") else ""  # text (two spaces) or binary (` *`) mode
        if len(digest) != 64 or not name:
            raise ValueError(f"{path}:{number}: not a `sha256  path` line: {line!r}")
        digests[name] = digest.lower()
    return digests


def landmark_failures(folder: Path) -> dict[tuple[str, str], str]:
    """{(subset, name): why} for the LQ images where landmark detection at fetch found no face."""
    landmarks = (read(folder) or {}).get("landmarks", {})
    return {tuple(key.split("/", 1)): why for key, why in landmarks.get("failures", {}).items()}
