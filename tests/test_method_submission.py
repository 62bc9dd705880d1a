"""Submissions as a folder or a .zip: safe extraction, missing and extra files reported by name, the rest
taken and scored."""

from __future__ import annotations

import shutil
import stat
import zipfile
from pathlib import Path

import numpy as np
import pytest

from faceboard.config import MethodConfig
from faceboard.imageio import read_rgb
from faceboard.layout import list_images
from faceboard.scoring.per_image import Scorer
from tasks.restore import LOG, restore_method
from tasks.score import items_for
from tests.conftest import ROOT, SAMPLE

LQ = SAMPLE / "lq"
TEAM = SAMPLE / "submissions" / "team15_NAFNet"


@pytest.fixture(autouse=True)
def _own_cache(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path / "cache"))


def _zip(path: Path, folder: Path, prefix: str = "", skip: str = "", extra: dict[str, bytes] | None = None) -> Path:
    with zipfile.ZipFile(path, "w") as zf:
        for file in sorted(folder.rglob("*.png")):
            rel = file.relative_to(folder).as_posix()
            if rel != skip:
                zf.write(file, prefix + rel)
        for name, data in (extra or {}).items():
            zf.writestr(name, data)
    return path


def test_a_zip_with_a_missing_image_and_extra_files_is_reported_and_the_rest_scored(tmp_path, capsys):
    archive = _zip(tmp_path / "team.zip", TEAM, skip="LFW-Test/Alex_Penelas_0001_00.png",
                   extra={"CelebA/999999.png": (TEAM / "CelebA" / "162798.png").read_bytes(), "notes.txt": b"hi"})
    out = tmp_path / "out"
    log = restore_method("team", MethodConfig(type="submission", options={"path": str(archive)}), LQ, out, ROOT)
    rows = {(r.subset, r.image): r for r in log.itertuples()}
    assert rows[("LFW-Test", "Alex_Penelas_0001_00")].status == "failed"
    assert rows[("LFW-Test", "Alex_Penelas_0001_00")].error == "missing from the submission"
    assert rows[("CelebA", "999999")].status == "extra" and "CelebA/999999.png" in rows[("CelebA", "999999")].error
    assert rows[("all", "notes.txt")].status == "extra"
    assert (log["status"] == "ok").sum() == 9
    printed = capsys.readouterr().out
    assert "restore team: 9 ok, 1 failed, 2 extra" in printed
    assert "failed (missing from the submission): LFW-Test/Alex_Penelas_0001_00" in printed
    assert "CelebA/999999" in printed and "notes.txt" in printed
    for ref in list_images(out):
        assert np.array_equal(read_rgb(ref.path), read_rgb(TEAM / ref.subset / f"{ref.name}.png"))

    failures = {(r.subset, r.image): r.error for r in log.itertuples() if r.status == "failed"}
    items, _ = items_for(list_images(LQ), list_images(out), None, failures)
    scored = {(r["subset"], r["image"]): r for r in Scorer({"piqe": {}}, None, "cpu", tmp_path / "c").score("team", items)}
    assert scored[("LFW-Test", "Alex_Penelas_0001_00")]["status"] == "failed"
    assert "missing from the submission" in scored[("LFW-Test", "Alex_Penelas_0001_00")]["error"]
    ok = [row for row in scored.values() if row["status"] == "ok"]
    assert len(ok) == 9 and all(np.isfinite(row["piqe"]) for row in ok)


def test_a_wrapped_zip_is_extracted_once_and_its_outputs_taken(tmp_path):
    archive = _zip(tmp_path / "team.zip", TEAM, prefix="team15_NAFNet/")
    config = MethodConfig(type="submission", options={"path": str(archive)})
    log = restore_method("team", config, LQ, tmp_path / "out", ROOT)
    assert (log["status"] == "ok").all() and len(log) == 10
    extracted = list((tmp_path / "cache" / "submissions").iterdir())
    assert [p.suffix for p in sorted(extracted)] == ["", ".lock"]
    stamp = extracted[0].stat().st_mtime_ns
    shutil.rmtree(tmp_path / "out" / "CelebA")
    assert (restore_method("team", config, LQ, tmp_path / "out", ROOT)["status"] == "ok").all()
    assert sorted(p.name for p in (tmp_path / "cache" / "submissions").iterdir()) == sorted(p.name for p in extracted)
    assert extracted[0].stat().st_mtime_ns == stamp


def test_a_changed_zip_replaces_the_outputs_taken_from_the_old_one(tmp_path):
    archive = _zip(tmp_path / "team.zip", TEAM)
    config = MethodConfig(type="submission", options={"path": str(archive)})
    restore_method("team", config, LQ, tmp_path / "out", ROOT)
    _zip(archive, LQ)  # the team uploads different images under the same name
    restore_method("team", config, LQ, tmp_path / "out", ROOT)
    assert np.array_equal(read_rgb(tmp_path / "out" / "CelebA" / "162798.png"), read_rgb(LQ / "CelebA" / "162798.png"))


def _symlink_entry(zf: zipfile.ZipFile, name: str, target: str) -> None:
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    zf.writestr(info, target)


@pytest.mark.parametrize("entry, why", [
    ("../escaped.png", "path escapes the target folder"),
    ("CelebA/../../escaped.png", "path escapes the target folder"),
    ("/tmp/absolute.png", "absolute path"),
    ("C:/absolute.png", "absolute path"),
    ("link.png", "symbolic link"),
])
def test_unsafe_zips_are_refused_whole_and_nothing_is_written_outside(tmp_path, entry, why):
    archive = _zip(tmp_path / "team.zip", TEAM)
    with zipfile.ZipFile(archive, "a") as zf:
        if why == "symbolic link":
            _symlink_entry(zf, entry, "/etc/passwd")
        else:
            zf.writestr(entry, b"x")
    log = restore_method("team", MethodConfig(type="submission", options={"path": str(archive)}), LQ,
                         tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all()
    assert log["error"].str.contains(f"team.zip: refused entry '{entry}': {why}", regex=False).all()
    assert log["error"].str.endswith("the archive was not extracted").all()
    assert not (tmp_path / "escaped.png").exists() and not list((tmp_path / "cache" / "submissions").glob("*/*"))


def test_a_submission_that_is_neither_folder_nor_zip_fails_every_image(tmp_path):
    (tmp_path / "team.zip").write_bytes(b"not a zip")
    log = restore_method("team", MethodConfig(type="submission", options={"path": str(tmp_path / "team.zip")}), LQ,
                         tmp_path / "out", ROOT)
    assert (log["status"] == "failed").all() and "neither a folder nor a .zip" in log["error"].iloc[0]
    assert (tmp_path / "out" / LOG).is_file()
