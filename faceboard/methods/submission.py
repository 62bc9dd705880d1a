"""The `submission` kind: a folder or a `.zip` of outputs a team uploaded (option `path`).

A zip is extracted once per content (by sha256, into faceboard's cache) with the datasets' safe
extraction: an entry with an absolute path, a `..`, a link or a device file, or an archive over params'
`security.archive` limits (a zip bomb), refuses the whole archive.
A single wrapping folder (`team/CelebA/...`) is looked through. Matching, validation and the report of
missing and extra files happen in tasks/restore.py, as for any folder of outputs.
"""

from __future__ import annotations

import hashlib
import shutil
import zipfile
from pathlib import Path

from faceboard.config import ArchiveLimits
from faceboard.env import cache_dir
from faceboard.files import sha256_file


def location(options: dict, root: Path) -> Path:
    """The submission's path (option `path`, relative to the project root)."""
    if "path" not in options or set(options) != {"path"}:
        raise ValueError(f"a submission takes exactly one option, `path`; got {sorted(options)}")
    return Path(root) / options["path"]


def outputs_folder(path: Path, limits: ArchiveLimits | None = None) -> Path:
    """The folder holding the outputs: `path`, or its zip's safe extraction within `limits` (None: params.yaml's
    defaults); a lone wrapping folder is entered."""
    if path.is_dir():
        folder = path
    elif path.is_file() and zipfile.is_zipfile(path):
        folder = extract(path, limits)
    else:
        raise FileNotFoundError(f"submission {path} is neither a folder nor a .zip file")
    while len(inner := _visible(folder)) == 1 and inner[0].is_dir():
        folder = inner[0]
    return folder


def digest(path: Path) -> str | None:
    """A content hash of the submission (zip bytes, or every file of a folder); None when absent."""
    if path.is_file():
        return sha256_file(path)
    if not path.is_dir():
        return None
    listing = sorted(f"{p.relative_to(path).as_posix()}\0{sha256_file(p)}" for p in path.rglob("*") if p.is_file())
    return hashlib.sha256("\n".join(listing).encode()).hexdigest()


def extract(archive: Path, limits: ArchiveLimits | None = None) -> Path:
    """Extract `archive` once per content into faceboard's cache; an unsafe one, or one over `limits` (None:
    params.yaml's defaults), raises UnsafeArchive, unextracted."""
    from filelock import FileLock

    from faceboard.datasets.extract import extract as extract_safely

    target = cache_dir() / "submissions" / sha256_file(archive)[:16]
    target.parent.mkdir(parents=True, exist_ok=True)
    with FileLock(target.with_suffix(".lock")):
        if not target.is_dir():
            partial = target.with_suffix(".partial")
            shutil.rmtree(partial, ignore_errors=True)  # from a killed run
            extract_safely(archive, partial, "zip", limits or ArchiveLimits())  # removes `partial` on any failure
            partial.rename(target)
    return target


def _visible(folder: Path) -> list[Path]:
    return [p for p in folder.iterdir() if not p.name.startswith(".") and p.name != "__MACOSX"]
