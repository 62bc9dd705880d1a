"""Hostile archives (bombs, too many entries, a member lying about its size, escaping paths, links) are refused
with a message naming the archive, what is wrong and the params key of the limit; the destination folder is
removed and nothing beside it (an earlier extraction, a sibling file) changes by a byte."""

from __future__ import annotations

import gzip
import io
import re
import stat
import tarfile
import time
import zipfile
import zlib
from pathlib import Path

import pytest

from faceboard.config import ArchiveLimits
from faceboard.datasets.extract import (
    MB,
    ArchiveError,
    UnsafeArchive,
    extract,
)
from faceboard.methods import submission
from tests.faults.snapshot import checksums, unchanged
from tests.test_dataset_extract import GOOD, make_tar, make_zip, tar_entry

LOOSE = {"max_ratio": 1e9}  # only the limit under test applies


def zip_bomb(path: Path, mb: int, name: str = "zeros.png") -> Path:
    """One member of `mb` MB of zeros, streamed (never held in memory)."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf, zf.open(name, "w", force_zip64=True) as out:
        for _ in range(mb):
            out.write(bytes(MB))
    return path


def tar_gz_bomb(path: Path, sizes_mb: list[int]) -> Path:
    """A genuine tar.gz of members of `sizes_mb` MB of zeros, written in milliseconds: gzip streams may be
    concatenated, so one compressed MB of zeros (about 1 KB) is repeated."""
    zero_mb = gzip.compress(bytes(MB))
    with open(path, "wb") as out:
        for i, size in enumerate(sizes_mb):
            info = tarfile.TarInfo(f"set/zeros{i}.png")
            info.size = size * MB
            out.write(gzip.compress(info.tobuf()))
            out.write(zero_mb * size)
        out.write(gzip.compress(bytes(2 * tarfile.BLOCKSIZE)))
    return path


def refuse(archive: Path, fmt: str, limits: ArchiveLimits, match: str, error: type[Exception] = UnsafeArchive) -> float:
    """Extract `archive` into a fresh folder beside an earlier extraction and a sibling file; assert the refusal,
    that the folder is gone and that nothing under the test's folder was added, lost or altered; the seconds."""
    work = archive.parent / "work"
    extract(make_zip(archive.parent / "good.zip", [(name, data, 0) for name, data in GOOD]), work / "earlier",
            "zip", ArchiveLimits())
    (work / "sibling.txt").write_text("an earlier result")
    before = checksums(archive.parent)
    start = time.perf_counter()
    with pytest.raises(error, match=match):
        extract(archive, work / "out", fmt, limits)
    seconds = time.perf_counter() - start
    assert not (work / "out").exists()
    assert checksums(archive.parent) == before
    return seconds


def test_a_zip_bomb_is_refused_by_its_ratio_before_a_byte_is_written(tmp_path):
    bomb = zip_bomb(tmp_path / "bomb.zip", 8)
    assert bomb.stat().st_size < 20_000
    refuse(bomb, "zip", ArchiveLimits(), r"^bomb\.zip: entry 'zeros\.png' inflates \d+ times \(8\.0 MB\), over the limit "
           r"of 100 \(set by security\.archive\.max_ratio in params\.yaml\); the archive was not extracted$")


def test_a_small_member_may_compress_well(tmp_path):
    archive = make_zip(tmp_path / "csv.zip", [("landmarks.csv", bytes(MB), 0)])
    assert (extract(archive, tmp_path / "out", "zip", ArchiveLimits()) / "landmarks.csv").stat().st_size == MB


def test_a_2gib_tar_gz_bomb_is_refused_at_its_first_header(tmp_path):
    bomb = tar_gz_bomb(tmp_path / "bomb.tar.gz", [2048])
    assert bomb.stat().st_size < 3 * MB
    limits = ArchiveLimits(max_total_mb=1024, **LOOSE)
    seconds = refuse(bomb, "tar.gz", limits, r"^bomb\.tar\.gz: its entries hold at least 2048\.0 MB uncompressed, over "
                     r"the limit of 1024 MB \(set by security\.archive\.max_total_mb in params\.yaml\)")
    assert seconds < 1  # inflating the 2 GiB to skip past it would take seconds


def test_a_tar_gz_bomb_is_refused_by_its_ratio_under_the_default_limits(tmp_path):
    refuse(tar_gz_bomb(tmp_path / "bomb.tar.gz", [256]), "tar.gz", ArchiveLimits(), r"bomb\.tar\.gz: its entries hold at least \d+ times its size .*over the "
           r"limit of 100 \(set by security\.archive\.max_ratio")


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_members_adding_up_past_the_total_are_refused(tmp_path, fmt):
    archive = tmp_path / f"big.{fmt}"
    if fmt == "zip":
        make_zip(archive, [(f"set/{i}.png", bytes(MB), 0) for i in range(3)])
    else:
        tar_gz_bomb(archive, [1, 1, 1])
    refuse(archive, fmt, ArchiveLimits(max_total_mb=2, **LOOSE), rf"^big\.{re.escape(fmt)}: its entries hold at least 3\.0 MB "
           r"uncompressed, over the limit of 2 MB \(set by security\.archive\.max_total_mb in params\.yaml\)")


def test_the_tar_gz_bomb_builder_makes_a_genuine_archive(tmp_path):
    out = extract(tar_gz_bomb(tmp_path / "ok.tar.gz", [1, 2]), tmp_path / "out", "tar.gz", ArchiveLimits(**LOOSE))
    assert [p.stat().st_size for p in sorted((out / "set").iterdir())] == [MB, 2 * MB]


@pytest.mark.parametrize("fmt", ["zip", "tar.gz"])
def test_too_many_entries_are_refused(tmp_path, fmt):
    entries = [(f"set/{i}.png", b"x") for i in range(11)]
    archive = tmp_path / f"many.{fmt}"
    if fmt == "zip":
        make_zip(archive, [(name, data, 0) for name, data in entries])
    else:
        make_tar(archive, entries)
    refuse(archive, fmt, ArchiveLimits(max_members=10), rf"^many\.{re.escape(fmt)}: it has at least 11 entries, over the limit "
           r"of 10 \(set by security\.archive\.max_members in params\.yaml\)")


def understating_zip(path: Path, declared: int, crc_of_declared: bool) -> Path:
    """A zip whose central directory declares `declared` bytes for a member of 4 MB of zeros."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("liar.png", bytes(4 * MB))
        info = zf.getinfo("liar.png")
        info.file_size = declared
        if crc_of_declared:
            info.CRC = zlib.crc32(bytes(declared))
    return path


def test_zipfile_stops_a_member_at_its_declared_size(tmp_path):
    liar = understating_zip(tmp_path / "liar.zip", 1000, crc_of_declared=True)
    assert (extract(liar, tmp_path / "out", "zip", ArchiveLimits()) / "liar.png").read_bytes() == bytes(1000)


def test_a_member_understating_its_size_fails_its_crc(tmp_path):
    refuse(understating_zip(tmp_path / "liar.zip", 1000, crc_of_declared=False), "zip", ArchiveLimits(),
           r"^liar\.zip: not a readable zip archive \(Bad CRC-32 for file 'liar\.png'\)$", ArchiveError)


def test_a_reader_yielding_more_than_declared_is_cut_off(tmp_path, monkeypatch):
    liar = understating_zip(tmp_path / "liar.zip", 1000, crc_of_declared=True)
    opener = zipfile.ZipFile.open

    def uncapped(zf: zipfile.ZipFile, name: object, mode: str = "r", **kwargs: object) -> object:
        if zf.filename == str(liar) and mode == "r":
            return io.BytesIO(bytes(4 * MB))  # a reader that would not stop at the declared size
        return opener(zf, name, mode, **kwargs)

    monkeypatch.setattr(zipfile.ZipFile, "open", uncapped)
    refuse(liar, "zip", ArchiveLimits(), r"^liar\.zip: entry 'liar\.png' yields more than its declared 1,000 bytes; "
           "the archive was not extracted$")


def escapes(tmp_path: Path) -> dict[str, tuple[str, object, str]]:
    """Attack -> (format, entry, message); absolute paths point into the test's folder, where `refuse` looks."""
    absolute = str(tmp_path / "abs.png")
    return {
        "zip ..": ("zip", ("../evil.png", b"x", 0), r"refused entry '\.\./evil\.png': path escapes the target folder"),
        "zip absolute": ("zip", (absolute, b"x", 0), "absolute path"),
        "zip symlink": ("zip", ("set/link", b"../../evil.png", stat.S_IFLNK | 0o777), "'set/link': symbolic link"),
        "tar ..": ("tar.gz", ("../x", b"x"), r"refused entry '\.\./x': path escapes the target folder"),
        "tar absolute": ("tar.gz", (absolute, b"x"), "absolute path"),
        "tar symlink": ("tar.gz", tar_entry("set/link", tarfile.SYMTYPE, "a.png"), "'set/link': link to 'a.png'"),
    }


@pytest.mark.parametrize("attack", ["zip ..", "zip absolute", "zip symlink", "tar ..", "tar absolute", "tar symlink"])
def test_escaping_and_linking_entries_are_refused(tmp_path, attack):
    fmt, entry, why = escapes(tmp_path)[attack]
    archive = tmp_path / f"evil.{fmt}"
    if fmt == "zip":
        make_zip(archive, [*((name, data, 0) for name, data in GOOD), entry])
    else:
        make_tar(archive, [*GOOD, entry])
    refuse(archive, fmt, ArchiveLimits(), rf"^evil\.{re.escape(fmt)}: .*{why}.*; the archive was not extracted$")


def test_a_submitted_zip_bomb_is_refused_and_the_cache_kept(tmp_path, monkeypatch):
    cache = tmp_path / "cache"
    monkeypatch.setenv("FACEBOARD_CACHE", str(cache))
    good = make_zip(tmp_path / "team.zip", [(f"team/{name}", data, 0) for name, data in GOOD])
    assert sorted(p.name for p in submission.outputs_folder(good).rglob("*.png")) == ["a.png", "b.png"]
    before = checksums(cache)
    with pytest.raises(UnsafeArchive, match=r"^bomb\.zip: entry 'zeros\.png' inflates \d+ times .*security\.archive"
                                            r"\.max_ratio"):
        submission.outputs_folder(zip_bomb(tmp_path / "bomb.zip", 8))  # params.yaml's default limits
    with pytest.raises(UnsafeArchive, match=r"^big\.zip: .*over the limit of 1 MB \(set by security\.archive"):
        submission.outputs_folder(make_zip(tmp_path / "big.zip", [("big.png", bytes(2 * MB), 0)]),
                                  ArchiveLimits(max_total_mb=1, **LOOSE))
    assert unchanged(before, cache) == []
    assert {p.suffix for p in (cache / "submissions").iterdir()} == {"", ".lock"}  # no `.partial` left
