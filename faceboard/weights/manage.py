"""`faceboard weights status | fetch | import`: see, download or hand-place every weight file."""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from pathlib import Path

from faceboard.download import DownloadError, download
from faceboard.files import sha256_file
from faceboard.weights.registry import MISMATCH, WEIGHTS, WeightFile, get

MISSING = "missing"


@dataclass(frozen=True)
class Status:
    weight: WeightFile
    state: str  # "provisionable", "missing", or a present file's trust (registry.Trust: "verified", ..., "mismatch")
    digest: str | None
    fix: str

    @property
    def problem(self) -> bool:
        """The file cannot be used: missing, or not the published one."""
        return self.state in (MISSING, MISMATCH)


def status(weight: WeightFile) -> Status:
    if weight.present():
        digest = sha256_file(weight.path)
        trust = weight.trust(digest)
        if trust.state == MISMATCH:
            return Status(weight, MISMATCH, digest, f"sha256 differs from the published one: replace {weight.path}")
        return Status(weight, trust.state, digest, "")
    if weight.provision:
        return Status(weight, "provisionable", None, f"built offline on first use (faceboard weights fetch {weight.name})")
    if not (weight.urls and weight.placeable):
        return Status(weight, MISSING, None, weight.fix)
    return Status(weight, MISSING, None,
                  f"faceboard weights fetch {weight.name}  (or download {weight.urls[0]} and place it at {weight.path})")


def fetch(name: str) -> Path:
    """Provision offline when possible, else download with resume and checksum."""
    from faceboard.weights.provision import ensure

    weight = get(name)
    path = ensure(name)
    if path is not None:
        return path
    root_name, _, repo = weight.location.partition("/")
    if root_name == "huggingface":  # the hub's own client keeps its cache layout (snapshots, refs)
        from huggingface_hub import hf_hub_download

        return Path(hf_hub_download(repo, weight.file_name))
    errors = []
    for url in weight.urls:
        try:
            return download(url, weight.path, check=lambda d: weight.trust(d).state != MISMATCH)
        except DownloadError as err:
            errors.append(str(err))
    raise DownloadError("\n".join(errors) or f"{name}: no URL known")


def import_dir(folder: Path) -> list[tuple[WeightFile, str]]:
    """Copy files from `folder` whose names match registry entries into place, after checking digests.

    Hugging Face snapshots and package files are not placed by hand (`faceboard weights fetch NAME`)."""
    by_file = {w.file_name: w for w in WEIGHTS.values() if w.placeable}
    placed = []
    for path in sorted(p for p in Path(folder).rglob("*") if p.is_file() and p.name in by_file):
        weight = by_file[path.name]
        digest = sha256_file(path)
        if weight.trust(digest).state == MISMATCH:
            raise ValueError(f"{path}: sha256 {digest} does not match the published digest of {weight.name}")
        weight.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = weight.path.with_name(weight.path.name + ".part")
        shutil.copyfile(path, tmp)
        tmp.replace(weight.path)
        placed.append((weight, digest))
    return placed
