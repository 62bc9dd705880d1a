"""Safe extraction of dataset archives (zip, tar, tar.gz).

Every entry is checked before a byte is written, and one bad entry refuses the whole archive:
absolute paths, `..` escapes, links (tar symlinks and hardlinks, zip symlinks) and device files
or FIFOs. Tar entries also pass the stdlib's `data` filter, at the check and at extraction.
macOS litter (`__MACOSX/`, `.DS_Store`) is skipped.
"""

from __future__ import annotations

import re
import shutil
import stat
import tarfile
import zipfile
import zlib
from pathlib import Path, PurePosixPath

from faceboard.datasets import DatasetError

FORMATS = {".zip": "zip", ".tar": "tar", ".tar.gz": "tar.gz", ".tgz": "tar.gz"}
JUNK = ("__MACOSX", ".DS_Store")


class ArchiveError(DatasetError):
    """An archive that cannot be read."""


class UnsafeArchive(ArchiveError):
    """An archive with an entry that would escape the target folder or is not a plain file."""


def archive_format(path: Path) -> str | None:
    """`zip`, `tar` or `tar.gz` from the file name, None for anything else."""
    name = path.name.lower()
    return next((fmt for suffix, fmt in FORMATS.items() if name.endswith(suffix)), None)


def extract(archive: Path, dest: Path, fmt: str) -> Path:
    """Extract `archive` into the new folder `dest`; raise UnsafeArchive or ArchiveError."""
    dest.mkdir(parents=True)
    try:
        if fmt == "zip":
            _extract_zip(archive, dest)
        else:
            _extract_tar(archive, dest, "r:gz" if fmt == "tar.gz" else "r:")
    except (zipfile.BadZipFile, tarfile.ReadError, EOFError, zlib.error) as err:
        raise ArchiveError(f"{archive.name}: not a readable {fmt} archive ({err})") from None
    return dest


def _extract_tar(archive: Path, dest: Path, mode: str) -> None:
    with tarfile.open(archive, mode) as tar:
        members = tar.getmembers()
        for member in members:
            _check_name(archive, member.name)
            try:
                tarfile.data_filter(member, str(dest))
            except tarfile.FilterError as err:
                _refuse(archive, member.name, str(err))
            if member.issym() or member.islnk():  # even inside the archive: a dataset holds plain files
                _refuse(archive, member.name, f"link to {member.linkname!r}")
        tar.extractall(dest, members=[m for m in members if not _junk(m.name)], filter="data")


def _extract_zip(archive: Path, dest: Path) -> None:
    with zipfile.ZipFile(archive) as zf:
        entries = zf.infolist()
        for info in entries:
            _check_name(archive, info.filename)
            mode = info.external_attr >> 16
            if stat.S_ISLNK(mode):
                _refuse(archive, info.filename, "symbolic link")
            if stat.S_IFMT(mode) and not (stat.S_ISREG(mode) or stat.S_ISDIR(mode)):
                _refuse(archive, info.filename, "device file, FIFO or socket")
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
                    shutil.copyfileobj(src, out, 1 << 20)
            except FileExistsError:
                raise ArchiveError(f"{archive.name}: entry {info.filename!r} occurs twice") from None


def _check_name(archive: Path, name: str) -> None:
    if name.startswith(("/", "\\")) or re.match(r"^[A-Za-z]:", name):
        _refuse(archive, name, "absolute path")
    if ".." in PurePosixPath(name.replace("\\", "/")).parts:
        _refuse(archive, name, "path escapes the target folder (`..`)")


def _junk(name: str) -> bool:
    return any(part in JUNK for part in PurePosixPath(name).parts)


def _refuse(archive: Path, name: str, why: str) -> None:
    raise UnsafeArchive(f"{archive.name}: refused entry {name!r}: {why}; the archive was not extracted")
