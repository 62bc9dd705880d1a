"""FID backend with random-weight Inception and statistics: loading, batching, references, no downloads."""

from __future__ import annotations

import pickle
import re
import shutil

import numpy as np
import pytest
import torch

from faceboard.imageio import read_rgb, to_batch
from faceboard.metrics import table
from faceboard.metrics.fid import FID, load_inception, load_stats
from faceboard.weights.registry import get as get_weight
from tests.conftest import SAMPLE
from tests.random_weights import cache_env, populate

IMAGES = sorted((SAMPLE / "lq").rglob("*.png"))[:3]  # Inception runs ~1 s per image on 2 CPU cores


@pytest.fixture(scope="module")
def cache(tmp_path_factory):
    root = tmp_path_factory.mktemp("fid_cache")
    with pytest.MonkeyPatch.context() as mp:
        for key, value in populate(root, ["fid_inception", "fid_ffhq512_stats"]).items():
            mp.setenv(key, value)
        yield root


@pytest.fixture(scope="module")
def fid(cache):
    return table.load("fid")


def test_missing_inception_is_unavailable_naming_url_and_path(tmp_path, monkeypatch):
    for key, value in cache_env(tmp_path).items():
        monkeypatch.setenv(key, value)
    weight = get_weight("fid_inception")
    with pytest.raises(table.MetricUnavailable, match=f"{weight.urls[0]}.*{weight.path}"):
        table.load("fid")
    assert not weight.path.exists()  # never fetched behind the user's back


def test_inception_is_loaded_with_weights_only(tmp_path):
    rogue = tmp_path / "pt_inception-2015-12-05-6726825d.pth"
    torch.save({"payload": Rogue()}, rogue)  # loading it with weights_only=False would run Rogue's pickle hooks
    refused = f"refused: {re.escape(str(rogue))} is not a tensors-only checkpoint"
    with pytest.raises(pickle.UnpicklingError, match=refused):
        load_inception(rogue)


def test_features_are_2048_d_and_independent_of_the_batch(fid):
    batch = to_batch([read_rgb(p) for p in IMAGES[:2]])
    together = fid.features(batch)
    alone = np.concatenate([fid.features(batch[i:i + 1]) for i in range(len(batch))])
    assert together.shape == (2, 2048) and np.isfinite(together).all()
    assert np.abs(together[0] - together[1]).mean() > 1e-3  # the features depend on the image
    np.testing.assert_allclose(together, alone, atol=1e-5)
    with pytest.raises(ValueError, match="at least 2 images"):
        fid.compute(together[:1])


def test_provenance_marks_random_weights_unverified(fid):
    prov = fid.provenance()
    assert prov["backend"] == "pytorch_fid" and prov["reference"] == {"stats": "inception_FFHQ_512-f7b384ab.pth"}
    assert prov["weights_verified"] is False
    assert set(prov["weights_unverified"]) == {"pt_inception-2015-12-05-6726825d.pth",
                                               "inception_FFHQ_512-f7b384ab.pth"}


def test_stats_file_as_tensors_or_numpy_and_shape_check(tmp_path, cache):
    mean, cov = load_stats(get_weight("fid_ffhq512_stats").path)  # numpy arrays, legacy format (BasicSR)
    tensors = tmp_path / "tensors.pth"
    torch.save({"mean": torch.from_numpy(mean), "cov": torch.from_numpy(cov)}, tensors)
    np.testing.assert_array_equal(load_stats(tensors)[1], cov)
    wrong = tmp_path / "wrong.pth"
    torch.save({"mean": mean[:10], "cov": cov}, wrong)
    with pytest.raises(ValueError, match="expected"):
        load_stats(wrong)


def test_reference_dir_replaces_the_stats_file_and_is_cached_by_content(tmp_path, monkeypatch):
    root = tmp_path / "cache"
    for key, value in populate(root, ["fid_inception"]).items():  # no FFHQ statistics here
        monkeypatch.setenv(key, value)
    folder = tmp_path / "reference"
    folder.mkdir()
    for path in IMAGES[:2]:
        shutil.copyfile(path, folder / path.name)
    options = {"reference_dir": str(folder)}
    assert not table.availability("fid")[0] and table.availability("fid", options)[0]
    first = table.load("fid", options)
    prov = first.provenance()
    assert prov["reference"]["images"] == 2 and len(prov["reference"]["content_sha256"]) == 64
    assert list(prov["weights"]) == ["pt_inception-2015-12-05-6726825d.pth"]
    assert len(list((root / "fid_stats").glob("*.npz"))) == 1
    with monkeypatch.context() as patched:
        patched.setattr(FID, "features", _not_again)
        again = table.load("fid", options)  # statistics come from the cache
    np.testing.assert_array_equal(again.reference[1], first.reference[1])
    shutil.copyfile(IMAGES[2], folder / IMAGES[0].name)
    changed = table.load("fid", options)
    assert changed.provenance()["reference"]["content_sha256"] != prov["reference"]["content_sha256"]
    assert len(list((root / "fid_stats").glob("*.npz"))) == 2


class Rogue:
    """An arbitrary pickled object: what a weights_only load must refuse."""


def _not_again(*args):
    raise AssertionError("statistics were recomputed")


def test_frechet_distance_matches_pytorch_fid_and_its_closed_form():
    from pytorch_fid.fid_score import calculate_frechet_distance

    from faceboard.metrics.fid import frechet_distance

    rng = np.random.default_rng(0)
    a, b = rng.normal(size=(300, 16)), rng.normal(1.0, 2.0, size=(300, 16))
    stats = [(x.mean(0), np.cov(x, rowvar=False)) for x in (a, b)]
    ours = frechet_distance(*stats[0], *stats[1])
    assert ours == pytest.approx(calculate_frechet_distance(*stats[0], *stats[1]), rel=1e-9)
    # diagonal covariances: |mu1 - mu2|^2 + sum (sqrt(s1) - sqrt(s2))^2
    mu1, mu2, s1, s2 = np.zeros(4), np.ones(4), np.eye(4), 4 * np.eye(4)
    assert frechet_distance(mu1, s1, mu2, s2) == pytest.approx(4 + 4 * (1 - 2) ** 2)
    assert frechet_distance(mu1, s1, mu1, s1) == pytest.approx(0, abs=1e-9)
