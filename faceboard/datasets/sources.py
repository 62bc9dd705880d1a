"""Where each part of a dataset comes from, and how it is placed into the dataset being built.

A part is downloaded (mirrors in order, resumable, checked against its sha256) into the download
cache, or found in a local folder or archive (`--from DIR`, an embedded source); archives are
extracted safely; then the part is copied into place and checked: its `checksums` list file by
file, its image `count`. A part with no digest at all is recorded as unverified.
"""

from __future__ import annotations

import shutil
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import quote

from faceboard.config import ArchiveLimits, DatasetConfig, PartConfig
from faceboard.datasets import DatasetError
from faceboard.datasets.extract import JUNK, archive_format, extract
from faceboard.datasets.manifest import read_checksums
from faceboard.download import DownloadError, Unreachable, download
from faceboard.files import sha256_file
from faceboard.imageio import is_image_file
from faceboard.progress import progress

ARCHIVES = ("zip", "tar", "tar.gz")
WORKERS = 8  # parallel downloads of a `files` part


@dataclass
class Found:
    """A part's content on disk before it is placed (a file or a folder) and what verified it so far."""

    path: Path
    checks: list[str] = field(default_factory=list)


def parts_of(config: DatasetConfig) -> tuple[PartConfig, ...]:
    """The declared parts; an embedded source without them has its `lq` folder and landmark CSV."""
    if config.source.parts:
        return config.source.parts
    parts = [PartConfig(into="lq", select=config.lq)]
    if config.landmarks:
        parts.append(PartConfig(into="landmarks.csv", select=config.landmarks))
    return tuple(parts)


def gather_local(config: DatasetConfig, folder: Path, root: Path, staging: Path, work: Path, origin: str,
                 limits: ArchiveLimits) -> list[dict[str, Any]]:
    """Place every part from `folder` (or from an archive at that path, extracted within `limits`) into `staging`."""
    parts = parts_of(config)
    checks: dict[str, list[str]] = {}
    if folder.is_file():
        folder, checks = _unpack(folder, parts, work / "from", limits)
    elif not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder or archive")
    single = sum(not part.is_file for part in parts) == 1
    records = []
    for i, part in enumerate(parts):
        found = _locate(part, folder, work / f"part{i}", single, limits)
        found.checks[:0] = checks.get(part.into, [])
        records.append(place(part, found, staging, root, {"origin": origin}))
    return records


def gather_remote(config: DatasetConfig, root: Path, staging: Path, work: Path, cache: Path,
                  limits: ArchiveLimits) -> list[dict[str, Any]]:
    """Download every part into `cache` (kept for resume and re-runs) and place it into `staging` (archives
    extracted within `limits`)."""
    records = []
    for i, part in enumerate(parts_of(config)):
        found = _download(part, root, cache, work / f"part{i}", limits)
        records.append(place(part, found, staging, root, {"origin": "download", "urls": list(part.urls)}))
    return records


def place(part: PartConfig, found: Found, staging: Path, root: Path, origin: dict[str, Any]) -> dict[str, Any]:
    """Copy a part into `staging/<into>`, check it, and return its record for the manifest."""
    dst = staging / part.into
    dst.parent.mkdir(parents=True, exist_ok=True)
    checks = list(found.checks)
    if part.is_file:
        if not found.path.is_file():
            raise DatasetError(f"{part.into}: {found.path} is not a file")
        shutil.copyfile(found.path, dst)
    elif part.checksums:
        checks.append(_place_listed(part, found.path, dst, root))
    else:
        shutil.copytree(found.path, dst, ignore=shutil.ignore_patterns(".*", *JUNK), dirs_exist_ok=True)
    record = {"into": part.into, **origin, "verified": bool(checks), "checks": checks}
    if not part.is_file:
        record["images"] = sum(1 for p in dst.rglob("*") if p.is_file() and is_image_file(p))
        if part.count is not None and record["images"] != part.count:
            raise DatasetError(f"{part.into}: {record['images']} images, expected {part.count}")
    return record


def verify_file(path: Path, sha256: str | None) -> list[str]:
    """[] when no digest is known, ["sha256 of NAME"] when it matches; DatasetError when not."""
    if sha256 is None:
        return []
    digest = sha256_file(path)
    if digest != sha256:
        raise DatasetError(f"{path.name}: sha256 {digest} does not match the catalog's {sha256}")
    return [f"sha256 of {path.name}"]


def _place_listed(part: PartConfig, src: Path, dst: Path, root: Path) -> str:
    """Copy exactly the files of the part's checksum list and check each digest."""
    listed = read_checksums(root / part.checksums)
    missing = [rel for rel in listed if not (src / rel).is_file()]
    if missing:
        raise DatasetError(f"{part.into}: {len(missing)} of {len(listed)} files of {part.checksums} are not in "
                           f"{src}, e.g. {', '.join(missing[:3])}")
    for rel in listed:
        (dst / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src / rel, dst / rel)
    wrong = [f"{rel} (sha256 {sha256_file(dst / rel)[:12]}..., listed {digest[:12]}...)"
             for rel, digest in listed.items() if sha256_file(dst / rel) != digest]
    if wrong:
        raise DatasetError(f"{part.into}: {len(wrong)} files do not match {part.checksums}: {'; '.join(wrong[:3])}")
    return f"{len(listed)} files against {part.checksums}"


def _download(part: PartConfig, root: Path, cache: Path, work: Path, limits: ArchiveLimits) -> Found:
    if part.format == "files":
        _download_listed(part, read_checksums(root / part.checksums), cache / part.into)
        return Found(cache / part.into)  # placing checks every file against the list
    target = cache / part.download_name
    if not (target.is_file() and (part.sha256 is None or sha256_file(target) == part.sha256)):
        _from_mirrors(part.urls, target, part.sha256, progress=True)
    checks = [f"sha256 of {target.name}"] if part.sha256 else []
    if part.format in ARCHIVES:
        return Found(_select(extract(target, work, part.format, limits), part), checks)
    return Found(target, checks)


def _download_listed(part: PartConfig, listed: dict[str, str], folder: Path) -> None:
    """Fetch each listed file not yet in `folder` with its digest, a few at a time."""
    todo = [(rel, digest) for rel, digest in listed.items()
            if not ((folder / rel).is_file() and sha256_file(folder / rel) == digest)]
    if not todo:
        return

    def one(entry: tuple[str, str]) -> None:
        rel, digest = entry
        _from_mirrors(tuple(f"{url.rstrip('/')}/{quote(rel)}" for url in part.urls), folder / rel, digest,
                      progress=False)

    with progress(len(todo), f"download {part.into}") as advance, ThreadPoolExecutor(WORKERS) as pool:
        futures = [pool.submit(one, entry) for entry in todo]
        try:
            for future in futures:
                future.result()
                advance(1)
        except BaseException:
            pool.shutdown(cancel_futures=True)
            raise


def _from_mirrors(urls: tuple[str, ...], target: Path, sha256: str | None, progress: bool) -> Path:
    errors: list[DownloadError] = []
    for url in urls:
        try:
            return download(url, target, sha256=sha256, progress=progress)
        except DownloadError as err:
            errors.append(err)
    kind = Unreachable if all(isinstance(err, Unreachable) for err in errors) else DownloadError
    raise kind("\n".join(str(err) for err in errors))


def _unpack(archive: Path, parts: tuple[PartConfig, ...], work: Path,
            limits: ArchiveLimits) -> tuple[Path, dict[str, list[str]]]:
    """`--from` an archive: check it when it bears the name of a part's archive, then extract it."""
    fmt = archive_format(archive)
    if fmt is None:
        raise DatasetError(f"{archive}: neither a folder nor a .zip, .tar or .tar.gz archive")
    checks = {part.into: verify_file(archive, part.sha256) for part in parts
              if part.format in ARCHIVES and part.download_name == archive.name}
    return _descend(extract(archive, work, fmt, limits)), checks


def _locate(part: PartConfig, folder: Path, work: Path, single: bool, limits: ArchiveLimits) -> Found:
    """A part inside a local folder: its archive, its `select` path, its `into` path, or (for the one
    folder part of a dataset) the folder itself."""
    archive = folder / part.download_name
    if part.format in ARCHIVES and archive.is_file():
        checks = verify_file(archive, part.sha256)
        return Found(_select(extract(archive, work, part.format, limits), part), checks)
    names = list(dict.fromkeys(n for n in (part.select, Path(part.select).name, part.into, Path(part.into).name) if n))
    for name in names:
        path = folder / name
        if path.exists() and path.is_file() == part.is_file:
            return Found(path, verify_file(path, part.sha256) if part.format == "file" else [])
    if not part.is_file and single:
        return Found(_descend(folder))
    raise DatasetError(f"{part.into}: none of {', '.join(names)} in {folder}")


def _select(root: Path, part: PartConfig) -> Path:
    """The part's `select` path inside an extracted archive ("": its top folder, or its one file)."""
    if not part.select:
        files = [p for p in root.rglob("*") if p.is_file()] if part.is_file else []
        return files[0] if len(files) == 1 else _descend(root)
    path = root / part.select
    if not path.exists():
        raise DatasetError(f"{part.into}: the archive has no {part.select!r}")
    return path


def _descend(folder: Path) -> Path:
    """An archive or folder holding one folder and nothing else stands for that folder."""
    entries = [p for p in folder.iterdir() if not p.name.startswith(".") and p.name not in JUNK]
    return entries[0] if len(entries) == 1 and entries[0].is_dir() else folder
