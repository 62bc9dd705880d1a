"""Safe extraction of dataset archives and submissions (zip, tar, tar.gz).

Every entry is checked before a byte is written, and one bad entry refuses the whole archive:
absolute paths, `..` escapes, links (tar symlinks and hardlinks, zip symlinks) and device files
or FIFOs. Tar entries also pass the stdlib's `data` filter, at the check and at extraction.
Sizes are bounded by params' `security.archive` limits: entries, total uncompressed size, and its
ratio to the archive's size (for zip also each member's own; ratios count past 1 MB only). A tar.gz
is read header by header and refused as soon as a limit is crossed, so a bomb is never inflated past
a limit; a zip member is cut off if it yields more than it declared. On any refusal or error the
destination folder is removed. macOS litter (`__MACOSX/`, `.DS_Store`) is skipped.
"""

from __future__ import annotations

import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath
from typing import IO, NoReturn

from faceboard.config import ArchiveLimits
from faceboard.datasets import DatasetError

FORMATS = {".zip": "zip", ".tar": "tar", ".tar.gz": "tar.gz", ".tgz": "tar.gz"}
JUNK = ("__MACOSX", ".DS_Store")
MB = 1 << 20
SMALL = MB  # up to this size uncompressed, a member or an archive may compress at any ratio (a CSV of zeros)


class ArchiveError(DatasetError):
    """An archive that cannot be read."""


class UnsafeArchive(ArchiveError):
    """An archive with an entry that would escape the target folder or is not a plain file."""


class ArchiveTooLarge(UnsafeArchive):
    """An archive over one of params' `security.archive` limits: a bomb, or more than is accepted."""


def archive_format(path: Path) -> str | None:
    """`zip`, `tar` or `tar.gz` from the file name, None for anything else."""
    name = path.name.lower()
    return next((fmt for suffix, fmt in FORMATS.items() if name.endswith(suffix)), None)


def extract(archive: Path, dest: Path, fmt: str, limits: ArchiveLimits) -> Path:
    """Extract `archive` into the new folder `dest`; raise UnsafeArchive (ArchiveTooLarge over `limits`) or
    ArchiveError, with `dest` removed."""
    dest.mkdir(parents=True)
    try:
        if fmt == "zip":
            _extract_zip(archive, dest, _Tally(archive, limits))
        else:
            _extract_tar(archive, dest, "r:gz" if fmt == "tar.gz" else "r:", _Tally(archive, limits))
    except BaseException as err:
        shutil.rmtree(dest, ignore_errors=True)
        if isinstance(err, (zipfile.BadZipFile, tarfile.ReadError, EOFError, zlib.error)):
            raise ArchiveError(f"{archive.name}: not a readable {fmt} archive ({err})") from None
        raise
    return dest


class _Tally:
    """Entries and uncompressed bytes counted so far, refused the moment they cross a limit."""

    def __init__(self, archive: Path, limits: ArchiveLimits) -> None:
        self.archive, self.limits = archive, limits
        self.size = max(archive.stat().st_size, 1)
        self.entries = self.total = 0

    def add(self, name: str, size: int, compressed: int | None = None) -> None:
        """Count one entry of `size` bytes uncompressed (`compressed`: its own compressed size, zip only)."""
        limits = self.limits
        self.entries += 1
        self.total += size
        if compressed is not None and size > SMALL and size > limits.max_ratio * compressed:
            self._over(f"entry {name!r} inflates {size / max(compressed, 1):.0f} times ({size / MB:.1f} MB)",
                       f"{limits.max_ratio:g}", "max_ratio")
        if self.entries > limits.max_members:
            self._over(f"it has at least {self.entries:,} entries", f"{limits.max_members:,}", "max_members")
        if self.total > limits.max_total_mb * MB:
            self._over(f"its entries hold at least {self.total / MB:.1f} MB uncompressed",
                       f"{limits.max_total_mb:g} MB", "max_total_mb")
        if self.total > SMALL and self.total > limits.max_ratio * self.size:
            self._over(f"its entries hold at least {self.total / self.size:.0f} times its size "
                       f"({self.total / MB:.1f} MB from {self.size / MB:.1f} MB)", f"{limits.max_ratio:g}", "max_ratio")

    def _over(self, what: str, limit: str, key: str) -> NoReturn:
        raise ArchiveTooLarge(f"{self.archive.name}: {what}, over the limit of {limit} (set by "
                              f"security.archive.{key} in params.yaml); the archive was not extracted")


def _extract_tar(archive: Path, dest: Path, mode: str, tally: _Tally) -> None:
    with tarfile.open(archive, mode) as tar:
        for member in tar:  # one header at a time: a refusal stops before the next member is inflated
            _check_name(archive, member.name)
            try:
                tarfile.data_filter(member, str(dest))
            except tarfile.FilterError as err:
                _refuse(archive, member.name, str(err))
            if member.issym() or member.islnk():  # even inside the archive: a dataset holds plain files
                _refuse(archive, member.name, f"link to {member.linkname!r}")
            tally.add(member.name, member.size)
        tar.extractall(dest, members=[m for m in tar.getmembers() if not _junk(m.name)], filter="data")


def _extract_zip(archive: Path, dest: Path, tally: _Tally) -> None:
    with zipfile.ZipFile(archive) as zf:
        entries = zf.infolist()
        for info in entries:
            _check_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                _refuse(archive, info.filename, "symbolic link")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                _refuse(archive, info.filename, "device file, FIFO or socket")
            tally.add(info.filename, info.file_size, info.compress_size)
        for info in entries:
            target = dest / info.filename
            if _junk(info.filename):
                continue
            if info.is_dir():
                target.mkdir(parents=True, exist_ok=True)
                continue
            target.parent.mkdir(parents=True, exist_ok=True)
            try:
                with zf.open(info) as src, open(target, "xb") as out:
                    _copy_declared(src, out, info.file_size, f"{archive.name}: entry {info.filename!r}")
            except FileExistsError:
                raise ArchiveError(f"{archive.name}: entry {info.filename!r} occurs twice") from None


def _copy_declared(src: IO[bytes], out: IO[bytes], declared: int, label: str) -> None:
    """Copy `src` to `out`, refusing a stream that yields more than its `declared` size."""
    left = declared
    while chunk := src.read(min(MB, left + 1)):
        if len(chunk) > left:
            raise ArchiveTooLarge(f"{label} yields more than its declared {declared:,} bytes; "
                                  "the archive was not extracted")
        out.write(chunk)
        left -= len(chunk)


def _check_name(archive: Path, name: str) -> None:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        _refuse(archive, name, "absolute path")
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        _refuse(archive, name, "path escapes the target folder (`..`)")


def _junk(name: str) -> bool:
    return any(part in JUNK for part in PurePosixPath(name).parts)


def _refuse(archive: Path, name: str, why: str) -> NoReturn:
    raise UnsafeArchive(f"{archive.name}: refused entry {name!r}: {why}; the archive was not extracted")
