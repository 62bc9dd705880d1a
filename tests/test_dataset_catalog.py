"""The dataset catalog in params.yaml: every entry says where it comes from and how it is verified,
and the pinned per-file checksums agree with the protocol and with the embedded sample."""

from __future__ import annotations

from collections import Counter

import pytest
from pydantic import ValidationError

from faceboard.config import DatasetConfig, load_params
from faceboard.datasets.manifest import read_checksums
from faceboard.files import sha256_file
from faceboard.weights.registry import WEIGHTS
from tests.conftest import ROOT, SAMPLE

PARAMS = load_params(ROOT / "params.yaml")
NTIRE_COUNTS = {"CelebA": 100, "CelebChild-Test": 50, "LFW-Test": 100, "WebPhoto-Test": 100, "Wider-Test": 100}


def test_the_sample_stays_the_active_default():
    assert PARAMS.dataset == "ntire2025-val-sample" and PARAMS.active_dataset.source.type == "embedded"


@pytest.mark.parametrize("name", list(PARAMS.datasets))
def test_every_entry_says_where_it_comes_from_and_how_it_is_checked(name):
    config = PARAMS.datasets[name]
    source = config.source
    assert config.description and config.licence
    if source.type == "embedded":
        assert (ROOT / source.path / config.lq).is_dir()
        return
    assert source.page and source.page.startswith("https://")
    if source.type == "weight":
        assert source.weight in WEIGHTS
        return
    for part in source.parts:
        assert all(url.startswith("https://") for url in part.urls)
        if not (part.sha256 or part.checksums):  # unverifiable parts must say so
            assert "sha256" in part.note or "sha256" in source.note, (name, part.into)
        if part.checksums:
            assert len(read_checksums(ROOT / part.checksums)) == part.count
    if config.fallback:
        fallback = PARAMS.datasets[config.fallback]
        assert fallback.source.type == "embedded" and set(fallback.subsets) <= set(config.subsets)


@pytest.mark.parametrize("split", ["val", "test"])
def test_ntire_checksum_lists_match_the_protocol_layout(split):
    listed = read_checksums(ROOT / f"data/checksums/ntire2025-{split}-lq.sha256")
    assert Counter(path.split("/")[0] for path in listed) == NTIRE_COUNTS
    assert all(path.endswith(".png") for path in listed) and len(set(listed.values())) == 450


def test_the_embedded_sample_is_byte_identical_to_the_pinned_val_split():
    listed = read_checksums(ROOT / "data/checksums/ntire2025-val-lq.sha256")
    sample = {p.relative_to(SAMPLE / "lq").as_posix(): sha256_file(p) for p in (SAMPLE / "lq").rglob("*.png")}
    assert len(sample) == 10 and all(listed[path] == digest for path, digest in sample.items())


def test_a_downloaded_benchmark_without_landmarks_must_say_they_are_detected():
    raw = {"source": {"type": "http", "parts": [{"into": "lq", "urls": ["https://example.org/x.zip"], "format": "zip"}]},
           "subsets": {"A": {"id_threshold": {"dlib_resnet": 0.9}}}}
    with pytest.raises(ValidationError, match="landmarks: null"):
        DatasetConfig.model_validate(raw)
    assert DatasetConfig.model_validate({**raw, "landmarks": None}).landmarks is None
    with pytest.raises(ValidationError, match="`files` needs a `checksums` list"):
        DatasetConfig.model_validate({**raw, "source": {"type": "http", "parts": [
            {"into": "lq", "urls": ["https://example.org/x"], "format": "files"}]}})
    with pytest.raises(ValidationError, match="String should match pattern"):
        DatasetConfig.model_validate({**raw, "landmarks": None, "source": {"type": "http", "parts": [
            {"into": "lq", "urls": ["https://example.org/x.zip"], "format": "zip", "sha256": "abc"}]}})
