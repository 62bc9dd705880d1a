"""Identity gate: alignment geometry, the dlib backbone on the embedded NTIRE 2025 val sample, the gate."""

from __future__ import annotations

import hashlib
import subprocess
import sys
from pathlib import Path

import cv2
import numpy as np
import pytest

from faceboard.config import load_params
from faceboard.identity.align import REFERENCE_112, align_face, similarity_transform
from faceboard.identity.backbones import BACKBONES, load_backbone
from faceboard.identity.gate import cosine_similarity, id_pass
from faceboard.landmarks import load_landmarks

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "ntire2025-val"
DLIB_THRESHOLDS = load_params(ROOT / "params.yaml").thresholds("dlib_resnet")
REF = REFERENCE_112.astype(np.float64)


def read_rgb(path: Path) -> np.ndarray:
    image = cv2.imread(str(path), cv2.IMREAD_COLOR)
    assert image is not None, path
    return cv2.cvtColor(image, cv2.COLOR_BGR2RGB)


# --- alignment -------------------------------------------------------------------------------


def test_reference_points() -> None:
    assert REFERENCE_112.shape == (5, 2) and REFERENCE_112.dtype == np.float32
    assert REFERENCE_112[0, 0] < REFERENCE_112[1, 0] and REFERENCE_112[3, 0] < REFERENCE_112[4, 0]


def test_identity_transform() -> None:
    np.testing.assert_allclose(similarity_transform(REF, REF), [[1, 0, 0], [0, 1, 0]], atol=1e-9)


def test_scale_and_translation() -> None:
    # dst = (src - (10, 20)) / 2 = 0.5 * src - (5, 10)
    matrix = similarity_transform(REF * 2 + (10, 20), REF)
    assert matrix.shape == (2, 3) and matrix.dtype == np.float64
    np.testing.assert_allclose(matrix, [[0.5, 0, -5], [0, 0.5, -10]], atol=1e-9)


def test_rotation_90() -> None:
    rotated = np.stack([-REF[:, 1], REF[:, 0]], axis=1)  # (x, y) -> (-y, x)
    np.testing.assert_allclose(similarity_transform(rotated, REF), [[0, 1, 0], [-1, 0, 0]], atol=1e-9)


@pytest.mark.parametrize(("size", "expected_xy"), [(112, (50, 65)), (224, (100, 130))])
def test_warp_places_dot(size: int, expected_xy: tuple[int, int]) -> None:
    image = np.zeros((300, 300, 3), np.uint8)
    image[150, 110] = 255  # x=110, y=150; landmarks R*2+(10,20) map it to ((110-10)/2, (150-20)/2) at 112
    crop = align_face(image, REF * 2 + (10, 20), size=size)
    assert crop.shape == (size, size, 3) and crop.dtype == np.uint8
    y, x = np.unravel_index(np.argmax(crop[..., 0]), crop.shape[:2])
    assert (x, y) == expected_xy and crop[y, x, 0] == 255


@pytest.mark.parametrize(
    "landmarks",
    [np.zeros((4, 2)), np.zeros((5, 3)), np.zeros(10), np.full((5, 2), np.nan), np.where(np.eye(5, 2), np.inf, 1.0)],
)
def test_bad_landmarks_raise(landmarks: np.ndarray) -> None:
    with pytest.raises(ValueError, match="landmarks"):
        align_face(np.zeros((64, 64, 3), np.uint8), landmarks)


# --- dlib backbone on the embedded sample ------------------------------------------------------


@pytest.fixture(scope="module")
def sample() -> dict:
    marks = load_landmarks(SAMPLE / "landmarks.csv")
    keys = sorted(marks)  # (subset, name)
    assert len(keys) == 10
    return {
        "keys": keys,
        "marks": [marks[k] for k in keys],
        "lq": [read_rgb(SAMPLE / "lq" / subset / f"{name}.png") for subset, name in keys],
        "restored": [read_rgb(SAMPLE / "submissions" / "team15_NAFNet" / s / f"{n}.png") for s, n in keys],
    }


@pytest.fixture(scope="module")
def dlib_net():
    return load_backbone("dlib_resnet")


@pytest.fixture(scope="module")
def lq_embeddings(dlib_net, sample) -> np.ndarray:
    return dlib_net.embed(sample["lq"], sample["marks"])


def test_embeddings_normalised(dlib_net, lq_embeddings, sample) -> None:
    assert dlib_net.spec is BACKBONES["dlib_resnet"]
    assert lq_embeddings.shape == (len(sample["keys"]), 128) and lq_embeddings.dtype == np.float32
    np.testing.assert_allclose(np.linalg.norm(lq_embeddings, axis=1), 1.0, atol=1e-5)
    assert dlib_net.embed([], []).shape == (0, 128)


def test_batch_equals_one_by_one(dlib_net, lq_embeddings, sample) -> None:
    singles = np.concatenate([dlib_net.embed([img], [lm]) for img, lm in zip(sample["lq"][:3], sample["marks"][:3])])
    np.testing.assert_allclose(lq_embeddings[:3], singles, atol=1e-5)


def test_self_similarity_passes(dlib_net, lq_embeddings, sample) -> None:

    again = dlib_net.embed(sample["lq"][:1], sample["marks"][:1])
    similarity = float(cosine_similarity(lq_embeddings[0], again[0]))
    assert similarity == pytest.approx(1.0, abs=1e-5)
    assert id_pass(similarity, DLIB_THRESHOLDS[sample["keys"][0][0]])


def test_other_person_fails(lq_embeddings, sample) -> None:

    subsets = [subset for subset, _ in sample["keys"]]
    pairs = [(i, j) for i in range(len(subsets)) for j in range(i + 1, len(subsets)) if subsets[i] == subsets[j]]
    assert len(pairs) == 5  # two different people per subset
    for i, j in pairs:
        similarity = float(cosine_similarity(lq_embeddings[i], lq_embeddings[j]))
        assert not id_pass(similarity, DLIB_THRESHOLDS[subsets[i]]), (sample["keys"][i], sample["keys"][j], similarity)


def test_team15_outputs_pass(dlib_net, lq_embeddings, sample) -> None:

    restored = dlib_net.embed(sample["restored"], sample["marks"])  # aligned with the LQ landmarks
    similarities = cosine_similarity(lq_embeddings, restored)
    thresholds = [DLIB_THRESHOLDS[subset] for subset, _ in sample["keys"]]
    assert id_pass(similarities, np.array(thresholds)).all(), dict(zip(sample["keys"], similarities))


def test_provenance_hashes_weight_bytes(dlib_net) -> None:
    from faceboard.identity.dlib_resnet import weights_path

    record = dlib_net.provenance()
    path = weights_path()
    assert record["backbone"] == "dlib_resnet" and record["official"] is False
    assert record["weights"] == {path.name: hashlib.sha256(path.read_bytes()).hexdigest()}
    assert {"dlib", "face_recognition_models"} <= set(record["libraries"])


# --- registry --------------------------------------------------------------------------------


def test_unknown_backbone() -> None:
    with pytest.raises(KeyError, match="nope.*dlib_resnet"):
        load_backbone("nope")


def test_registry_import_is_lazy() -> None:
    code = (
        "import sys, faceboard.identity.backbones as b; "
        "assert 'dlib_resnet' in b.BACKBONES; "
        "heavy = [m for m in ('dlib', '_dlib_pybind11', 'torch') if m in sys.modules]; "
        "assert not heavy, heavy"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


# --- gate ------------------------------------------------------------------------------------


def test_cosine_similarity_rows() -> None:
    a = np.array([[1.0, 0.0], [3.0, 4.0], [1.0, 1.0]])
    b = np.array([[2.0, 0.0], [-3.0, -4.0], [0.0, 0.0]])
    sims = cosine_similarity(a, b)
    np.testing.assert_allclose(sims[:2], [1.0, -1.0])
    assert np.isnan(sims[2])  # a zero row has no direction
    with pytest.raises(ValueError):
        cosine_similarity(a, b[:2])


def test_id_pass() -> None:
    assert id_pass(0.5, 0.5) and not id_pass(0.49, 0.5) and not id_pass(float("nan"), 0.0)
    assert id_pass(np.array([0.9, 0.2, np.nan, 0.6]), np.array([0.5, 0.3, 0.3, 0.6])).tolist() == [True, False, False, True]
