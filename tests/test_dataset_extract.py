"""Safe extraction: every escaping, linking or special entry refuses the whole archive, before any write."""

from __future__ import annotations

import io
import stat
import tarfile
import zipfile
from pathlib import Path

import pytest

from faceboard.config import ArchiveLimits
from faceboard.datasets.extract import (
    ArchiveError,
    UnsafeArchive,
    archive_format,
    extract,
)


def make_zip(path: Path, entries: list[tuple[str, bytes, int]]) -> Path:
    """entries: (name, data, unix mode incl. file type; 0 = plain file)."""
    with zipfile.ZipFile(path, "w") as zf:
        for name, data, mode in entries:
            info = zipfile.ZipInfo(name)
            info.external_attr = (mode or stat.S_IFREG | 0o644) << 16
            zf.writestr(info, data)
    return path


def make_tar(path: Path, entries: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> Path:
    with tarfile.open(path, mode) as tar:
        for entry in entries:
            if isinstance(entry, tarfile.TarInfo):
                tar.addfile(entry)
            else:
                info = tarfile.TarInfo(entry[0])
                info.size = len(entry[1])
                tar.addfile(info, io.BytesIO(entry[1]))
    return path


def tar_entry(name: str, kind: bytes, linkname: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type, info.linkname = kind, linkname
    return info


GOOD = [("set/a.png", b"a"), ("set/sub/b.png", b"bb")]


@pytest.mark.parametrize("fmt", ["zip", "tar", "tar.gz"])
def test_a_plain_archive_extracts_completely_without_macos_litter(tmp_path, fmt):
    entries = [*GOOD, ("__MACOSX/set/._a.png", b"junk"), ("set/.DS_Store", b"junk")]
    archive = tmp_path / f"x.{fmt}"
    if fmt == "zip":
        make_zip(archive, [(name, data, 0) for name, data in entries])
    else:
        make_tar(archive, entries, "w:gz" if fmt == "tar.gz" else "w")
    assert archive_format(archive) == fmt
    out = extract(archive, tmp_path / "out", fmt, ArchiveLimits())
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file()) == ["set/a.png", "set/sub/b.png"]
    assert (out / "set/sub/b.png").read_bytes() == b"bb"


ZIP_ATTACKS = {
    "zip-slip": ("../evil.png", b"x", 0),
    "nested zip-slip": ("set/../../evil.png", b"x", 0),
    "absolute path": ("/tmp/evil.png", b"x", 0),
    "windows drive": ("C:/evil.png", b"x", 0),
    "symlink": ("set/link", b"../../evil.png", stat.S_IFLNK | 0o777),
    "fifo": ("set/pipe", b"", stat.S_IFIFO | 0o644),
}


@pytest.mark.parametrize("attack", ZIP_ATTACKS, ids=list(ZIP_ATTACKS))
def test_unsafe_zip_entries_refuse_the_whole_archive(tmp_path, attack):
    archive = make_zip(tmp_path / "x.zip", [(name, data, 0) for name, data in GOOD] + [ZIP_ATTACKS[attack]])
    with pytest.raises(UnsafeArchive, match=r"x\.zip: refused entry .*the archive was not extracted"):
        extract(archive, tmp_path / "deep" / "out", "zip", ArchiveLimits())
    assert not (tmp_path / "deep" / "out").exists()  # checked before a byte was written, and removed
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "deep" / "evil.png").exists()


TAR_ATTACKS = {
    "dot-dot": (("../evil.png", b"x"), "escapes the target folder"),
    "absolute path": (("/tmp/evil.png", b"x"), "absolute path"),
    "symlink outside": (tar_entry("set/link", tarfile.SYMTYPE, "../../evil.png"), "outside the destination"),
    "absolute symlink": (tar_entry("set/link", tarfile.SYMTYPE, "/etc/passwd"), "absolute"),
    "hardlink outside": (tar_entry("set/hard", tarfile.LNKTYPE, "../../evil.png"), "outside the destination"),
    "symlink inside": (tar_entry("set/link", tarfile.SYMTYPE, "a.png"), "link to 'a.png'"),
    "character device": (tar_entry("set/tty", tarfile.CHRTYPE), "special file"),
    "fifo": (tar_entry("set/pipe", tarfile.FIFOTYPE), "special file"),
}


@pytest.mark.parametrize("attack", TAR_ATTACKS, ids=list(TAR_ATTACKS))
def test_unsafe_tar_entries_refuse_the_whole_archive(tmp_path, attack):
    entry, why = TAR_ATTACKS[attack]
    archive = make_tar(tmp_path / "x.tar.gz", [*GOOD, entry])
    with pytest.raises(UnsafeArchive, match=f"refused entry .*{why}"):
        extract(archive, tmp_path / "deep" / "out", "tar.gz", ArchiveLimits())
    assert not (tmp_path / "deep" / "out").exists()
    assert not (tmp_path / "evil.png").exists() and not (tmp_path / "deep" / "evil.png").exists()


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_an_unreadable_archive_is_an_archive_error(tmp_path, fmt):
    good = tmp_path / f"good.{fmt}"
    if fmt == "zip":
        make_zip(good, [(name, data * 5000, 0) for name, data in GOOD])
    else:
        make_tar(good, [(name, data * 5000) for name, data in GOOD])
    broken = tmp_path / f"broken.{fmt}"
    broken.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ArchiveError, match=f"broken.{fmt}: not a readable {fmt} archive"):
        extract(broken, tmp_path / "out", fmt, ArchiveLimits())


def test_archive_format_by_name():
    assert [archive_format(Path(n)) for n in ("a.ZIP", "a.tgz", "a.tar", "a.tar.gz", "a.png")] == [
        "zip", "tar.gz", "tar", "tar.gz", None]
