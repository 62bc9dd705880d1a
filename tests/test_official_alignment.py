"""faceboard's alignment against the official NTIRE 2025 one, recorded in tests/fixtures/official_alignment."""

from __future__ import annotations

import json
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceboard.identity.align import REFERENCE_112, align_face, similarity_transform
from faceboard.imageio import read_rgb
from faceboard.landmarks import load_landmarks

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "ntire2025-val"
OUTPUTS = SAMPLE / "submissions" / "team15_NAFNet"
FIXTURE = ROOT / "tests" / "fixtures" / "official_alignment"
RECORD = json.loads((FIXTURE / "alignment.json").read_text())
IMAGES = RECORD["images"]
SYNTHETIC = {case["name"]: case for case in RECORD["synthetic"]}


def official_crops(kind: str) -> list[np.ndarray]:
    mosaic = cv2.imread(str(FIXTURE / RECORD["crops"][kind]), cv2.IMREAD_COLOR)[..., ::-1]
    return np.split(mosaic, len(IMAGES), axis=1)


def test_reference_is_official() -> None:
    assert np.array_equal(REFERENCE_112, np.array(RECORD["reference_112"], np.float32))


@pytest.mark.parametrize("image", IMAGES, ids=[image["key"] for image in IMAGES])
def test_matrix_matches_official(image: dict) -> None:
    subset, name = image["key"].split("/")
    points = load_landmarks(SAMPLE / "landmarks.csv")[(subset, name)]
    assert np.array_equal(points, np.float32(image["landmarks"]))  # the float32 points the official code fits
    matrix = similarity_transform(points, REFERENCE_112)
    assert np.abs(matrix - np.array(image["matrix"])).max() <= 1e-6


@pytest.mark.parametrize(("kind", "folder"), [("lq", SAMPLE / "lq"), ("output", OUTPUTS)])
def test_crops_match_official(kind: str, folder: Path) -> None:
    landmarks = load_landmarks(SAMPLE / "landmarks.csv")
    for image, expected in zip(IMAGES, official_crops(kind), strict=True):
        subset, name = image["key"].split("/")
        crop = align_face(read_rgb(folder / subset / f"{name}.png"), landmarks[(subset, name)], 112)
        diff = np.abs(crop.astype(np.int16) - expected.astype(np.int16)).max()
        assert diff <= 1, f"{kind} {image['key']}: crop differs from the official one by {diff} grey levels"


@pytest.mark.parametrize("name", sorted(SYNTHETIC))
def test_reflection_rule_matches_official(name: str) -> None:
    case = SYNTHETIC[name]
    matrix = similarity_transform(np.array(case["landmarks"]), REFERENCE_112)
    assert np.abs(matrix - np.array(case["matrix"])).max() <= 1e-6
    assert (np.linalg.det(matrix[:, :2]) < 0) == (case["branch"] == "reflective")


def test_fixture_covers_the_in_place_mirror_quirk() -> None:
    # Cases where the official code keeps the other fit than MATLAB's cp2tform would, in both directions.
    quirks = {(case["branch"], case["intended_branch"]) for case in SYNTHETIC.values()
              if case["branch"] != case["intended_branch"]}
    assert quirks == {("reflective", "nonreflective"), ("nonreflective", "reflective")}


def test_coincident_landmarks_raise() -> None:
    with pytest.raises(ValueError, match="landmarks must not"):
        align_face(np.zeros((64, 64, 3), np.uint8), np.full((5, 2), 30.0))
