"""faceboard.landmarks: the NTIRE 2025 five-point landmark CSV."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from faceboard.landmarks import (
    LANDMARK_COLUMNS,
    LandmarkError,
    load_landmarks,
    lookup,
    require_inside,
    write_landmarks,
)

CSV = Path(__file__).resolve().parents[1] / "data/samples/ntire2025-val/landmarks.csv"
HEADER = "filename,dataset,x1,y1,x2,y2," + ",".join(LANDMARK_COLUMNS)


def _csv(tmp_path: Path, *lines: str, header: str = HEADER) -> Path:
    path = tmp_path / "lm.csv"
    path.write_text("\n".join((header, *lines)) + "\n")
    return path


def _row(name: str, subset: str = "S", points: str = ",".join(str(i) for i in range(10))) -> str:
    return f"{name},{subset},0,0,512,512,{points}"


def test_columns() -> None:
    assert (
        len(LANDMARK_COLUMNS) == 10
        and LANDMARK_COLUMNS[0] == "left_eye_x"
        and LANDMARK_COLUMNS[-1] == "mouth_right_y"
    )


def test_real_sample() -> None:
    landmarks = load_landmarks(CSV)
    assert len(landmarks) == 10
    assert all(v.shape == (5, 2) and v.dtype == np.float32 for v in landmarks.values())
    assert ("Wider-Test", "0020") in landmarks  # not the integer 20
    assert ("WebPhoto-Test", "00000_00") in landmarks
    assert ("CelebChild-Test", "149_Kristen Bell_00") in landmarks
    # Copied by hand from the CSV row of Wider-Test/0024.
    expected = [
        [188.010582010582, 241.1851851851852],
        [323.9894179894179, 241.1851851851852],
        [273.7248677248677, 312.6137566137566],
        [192.24338624338623, 379.8095238095238],
        [314.4656084656084, 378.22222222222223],
    ]
    np.testing.assert_array_equal(landmarks[("Wider-Test", "0024")], np.array(expected, np.float32))


def test_lookup() -> None:
    landmarks = load_landmarks(CSV)
    direct = lookup(landmarks, "Wider-Test", "0020")
    assert direct is landmarks[("Wider-Test", "0020")]
    assert lookup(landmarks, "all", "0020") is direct
    with pytest.raises(LandmarkError, match="no landmarks for Wider-Test/9999"):
        lookup(landmarks, "Wider-Test", "9999")
    with pytest.raises(LandmarkError, match="no landmarks for all/9999"):
        lookup(landmarks, "all", "9999")
    with pytest.raises(LandmarkError, match="no landmarks for CelebA/0020"):
        lookup(landmarks, "CelebA", "0020")


def test_lookup_flat_ambiguous(tmp_path: Path) -> None:
    landmarks = load_landmarks(_csv(tmp_path, _row("1", "A"), _row("1", "B")))
    with pytest.raises(LandmarkError, match=r"ambiguous landmarks for 1: in subsets \['A', 'B'\]"):
        lookup(landmarks, "all", "1")


def test_string_names_kept(tmp_path: Path) -> None:
    landmarks = load_landmarks(_csv(tmp_path, _row("0020"), _row("NA"), _row("1e3"), _row("null")))
    assert sorted(name for _, name in landmarks) == ["0020", "1e3", "NA", "null"]


def test_missing_columns(tmp_path: Path) -> None:
    header = HEADER.replace(",nose_x", "").replace(",dataset", "")
    with pytest.raises(LandmarkError, match="lm.csv: missing columns dataset, nose_x"):
        load_landmarks(_csv(tmp_path, header=header))


@pytest.mark.parametrize("bad", ["abc", "", "nan", "inf"])
def test_bad_values_fail_their_row_only(tmp_path: Path, bad: str) -> None:
    points = ",".join(["1"] * 4 + [bad] + ["1"] * 5)
    landmarks = load_landmarks(_csv(tmp_path, _row("ok"), _row("0042", "Wider-Test", points)))
    assert list(landmarks) == [("S", "ok")]  # the bad row is kept out of the points
    for subset in ("Wider-Test", "all"):
        with pytest.raises(LandmarkError, match=r"landmarks for Wider-Test/0042 \(data row 2\).*nose_x.*fix that row"):
            lookup(landmarks, subset, "0042")


def test_short_row(tmp_path: Path) -> None:
    with pytest.raises(LandmarkError, match="S/short"):
        lookup(load_landmarks(_csv(tmp_path, "short,S,0,0,1,1,1,2,3")), "S", "short")


def test_points_outside_the_image() -> None:
    points = load_landmarks(CSV)[("Wider-Test", "0020")]
    assert require_inside(points, 512, 512, "Wider-Test/0020") is points
    for column, value in (("left_eye_x", 900.0), ("mouth_right_y", -1.0), ("nose_x", float("nan"))):
        bad = points.copy()
        bad.ravel()[LANDMARK_COLUMNS.index(column)] = value
        with pytest.raises(LandmarkError, match=rf"Wider-Test/0020 outside its 512x512 image \({column}={value:g}\)"):
            require_inside(bad, 512, 512, "Wider-Test/0020")


def test_duplicate_keys(tmp_path: Path) -> None:
    with pytest.raises(LandmarkError, match="duplicate entries for S/a"):
        load_landmarks(_csv(tmp_path, _row("a"), _row("b"), _row("a")))


def test_empty_name(tmp_path: Path) -> None:
    with pytest.raises(LandmarkError, match="empty filename or dataset in data row 1"):
        load_landmarks(_csv(tmp_path, _row("")))


def test_empty_file(tmp_path: Path) -> None:
    path = tmp_path / "lm.csv"
    path.touch()
    with pytest.raises(LandmarkError, match="lm.csv: not a readable CSV"):
        load_landmarks(path)


def test_write_round_trip(tmp_path: Path) -> None:
    original = load_landmarks(CSV)
    rows = [(s, n, np.array([1.5, 2.0, 300.25, 400.0]), pts) for (s, n), pts in original.items()]
    path = tmp_path / "out" / "landmarks.csv"
    write_landmarks(path, rows)
    assert path.read_text().splitlines()[0] == HEADER
    again = load_landmarks(path)
    assert again.keys() == original.keys()
    for key, points in original.items():
        np.testing.assert_array_equal(again[key], points)


def test_write_rejects_bad_rows(tmp_path: Path) -> None:
    path = tmp_path / "lm.csv"
    box, pts = np.zeros(4), np.zeros((5, 2))
    with pytest.raises(LandmarkError, match="expected"):
        write_landmarks(path, [("S", "a", box, np.zeros((4, 2)))])
    with pytest.raises(LandmarkError, match="non-finite"):
        write_landmarks(path, [("S", "a", box, np.full((5, 2), np.nan))])
    with pytest.raises(LandmarkError, match="duplicate key 'S'/'a'"):
        write_landmarks(path, [("S", "a", box, pts), ("S", "a", box, pts)])
    assert not path.exists()
