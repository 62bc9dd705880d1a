"""The 450-image validation submission with 5 outputs replaced by corrupt files: the other 445 score exactly as
in the clean run, and the 5 are reported by name; the clean run's folder is not touched."""

from __future__ import annotations

import os
import shutil

import pandas as pd
import pytest

from faceboard.imageio import read_rgb, write_png_atomic
from tests.conftest import SHARED_VAL, run_cli
from tests.faults.snapshot import checksums, unchanged

pytestmark = [pytest.mark.slow, pytest.mark.skipif(not SHARED_VAL.is_dir(), reason="needs ../shared/ntire2025/val")]

SUBMISSION = SHARED_VAL / "submissions" / "team15_NAFNet"
CORRUPT = {  # one per subset, each broken its own way
    "CelebA": lambda path: path.write_bytes(path.read_bytes()[: path.stat().st_size // 2]),  # truncated
    "CelebChild-Test": lambda path: path.write_bytes(b""),  # empty
    "LFW-Test": lambda path: path.write_text("<html>502 Bad Gateway</html>"),  # not an image
    "WebPhoto-Test": lambda path: path.write_bytes(b"\x89PNG\r\n\x1a\n" + os.urandom(4096)),  # a header, then noise
    "Wider-Test": lambda path: write_png_atomic(path, read_rgb(path)[:256, :256]),  # wrong size
}


def _score(submission, out, cache) -> pd.DataFrame:
    env = {**os.environ, "FACEBOARD_CACHE": str(cache)}  # each run computes every value itself: nothing is shared
    run_cli("score", str(submission), "--lq", str(SHARED_VAL / "lq"), "--metrics", "niqe", "--out", str(out), env=env)
    return pd.read_parquet(out / "per_image.parquet").set_index(["subset", "image"]).sort_index()


def test_five_corrupt_outputs_of_450_fail_by_name_and_the_other_445_score_as_in_the_clean_run(tmp_path):
    clean = _score(SUBMISSION, tmp_path / "clean", tmp_path / "cache-clean")
    assert (clean["status"] == "ok").all() and len(clean) == 450
    earlier = checksums(tmp_path / "clean")

    broken = tmp_path / "broken"
    shutil.copytree(SUBMISSION, broken)
    chosen = {}
    for subset, corrupt in CORRUPT.items():
        path = sorted((broken / subset).glob("*.png"))[7]
        corrupt(path)
        chosen[(subset, path.stem)] = path
    faulty = _score(broken, tmp_path / "faulty", tmp_path / "cache-faulty")

    failed = faulty[faulty["status"] == "failed"]
    assert set(failed.index) == set(chosen) and len(faulty) == 450
    for key, error in failed["error"].items():
        assert f"{chosen[key].name}: " in error, error  # reported by name, with the reason
    good = [key for key in faulty.index if key not in chosen]
    values = ["status", "id_sim", "id_pass", "niqe"]
    pd.testing.assert_frame_equal(faulty.loc[good, values], clean.loc[good, values])  # exactly the same values
    assert unchanged(earlier, tmp_path / "clean") == []
