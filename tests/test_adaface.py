"""AdaFace IR-50: the real architecture with random weights in the released checkpoint layout."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from faceboard.identity.adaface import IR50, AdaFaceIR50, load_checkpoint, to_input
from faceboard.identity.backbones import BackboneUnavailable
from faceboard.imageio import read_rgb
from faceboard.landmarks import load_landmarks
from tests.conftest import SAMPLE
from tests.random_weights import write_adaface


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory):
    """A Lightning-style checkpoint like adaface_ir50_ms1mv2.ckpt, with random weights."""
    return write_adaface(tmp_path_factory.mktemp("adaface") / "adaface_ir50_ms1mv2.ckpt")


@pytest.fixture(scope="module")
def faces():
    marks = load_landmarks(SAMPLE / "landmarks.csv")
    keys = sorted(marks)[:4]
    return [read_rgb(SAMPLE / "lq" / s / f"{n}.png") for s, n in keys], [marks[k] for k in keys]


def test_ir50_has_the_released_shapes():
    model = IR50().eval()
    emb, norm = model(torch.randn(2, 3, 112, 112))
    assert emb.shape == (2, 512) and norm.shape == (2, 1)
    assert torch.allclose(emb.norm(dim=1), torch.ones(2), atol=1e-5)
    assert len(model.body) == 24  # 3 + 4 + 14 + 3 units


def test_checkpoint_loads_strictly_and_rejects_other_layouts(checkpoint, tmp_path):
    model = load_checkpoint(checkpoint)
    assert not model.training
    broken = tmp_path / "broken.ckpt"
    state = torch.load(checkpoint, map_location="cpu", weights_only=False)["state_dict"]
    del state["model.output_layer.3.weight"]
    torch.save({"state_dict": state}, broken)
    with pytest.raises(ValueError, match="missing keys"):
        load_checkpoint(broken)
    unprefixed = tmp_path / "plain.ckpt"
    torch.save({"state_dict": IR50().state_dict()}, unprefixed)
    with pytest.raises(ValueError, match="model."):
        load_checkpoint(unprefixed)


def test_input_is_bgr_in_minus_one_to_one():
    face = np.zeros((112, 112, 3), np.uint8)
    face[..., 0] = 255  # pure red in RGB
    x = to_input([face])
    assert x.shape == (1, 3, 112, 112)
    assert torch.all(x[0, 2] == 1.0) and torch.all(x[0, 0] == -1.0)  # red lands in the last (R of BGR) plane


def test_embeddings_self_similarity_batching_and_provenance(checkpoint, faces):
    images, marks = faces
    net = AdaFaceIR50("cpu", checkpoint)
    batch = net.embed(images, marks)
    assert batch.shape == (4, 512)
    np.testing.assert_allclose(np.linalg.norm(batch, axis=1), 1.0, atol=1e-5)
    single = np.concatenate([net.embed([im], [lm]) for im, lm in zip(images, marks)])
    np.testing.assert_allclose(batch, single, atol=1e-5)
    again = net.embed(images[:1], marks[:1])
    assert float(batch[0] @ again[0]) == pytest.approx(1.0, abs=1e-5)
    prov = net.provenance()
    assert prov["official"] and prov["weights_verified"] is False  # no digest is published for the ckpt
    assert prov["weights_trust"] == {"adaface_ir50_ms1mv2.ckpt": "unpinned"}
    assert "no published" in prov["weights_unverified"]["adaface_ir50_ms1mv2.ckpt"]
    assert len(prov["weights"]["adaface_ir50_ms1mv2.ckpt"]) == 64


def test_missing_checkpoint_names_url_and_path(tmp_path, monkeypatch):
    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path))
    with pytest.raises(BackboneUnavailable, match="drive.google.com.*" + str(tmp_path)):
        AdaFaceIR50("cpu")
