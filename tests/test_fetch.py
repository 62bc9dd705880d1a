"""The fetch stage for the embedded dataset: complete copy with a verifiable manifest, or nothing."""

from __future__ import annotations

import hashlib
import json
import shutil

import pytest

from faceboard.config import load_params
from tasks.fetch import fetch_dataset
from tests.conftest import ROOT


@pytest.fixture
def params():
    return load_params(ROOT / "params.yaml")


def test_fetch_copies_lq_and_landmarks_with_manifest(tmp_path, params):
    dest = fetch_dataset(params.dataset, params.active_dataset, ROOT, tmp_path / "ds")
    manifest = json.loads((dest / "manifest.json").read_text())
    files = {entry["file"]: entry for entry in manifest["files"]}
    assert len([f for f in files if f.startswith("lq/")]) == 10 and "landmarks.csv" in files
    entry = files["lq/CelebChild-Test/149_Kristen Bell_00.png"]
    assert entry["sha256"] == hashlib.sha256((dest / entry["file"]).read_bytes()).hexdigest()


def test_undeclared_subset_leaves_no_dataset(tmp_path, params):
    source = tmp_path / "src"
    shutil.copytree(ROOT / params.active_dataset.source.path, source)
    (source / "lq" / "Unknown").mkdir()
    shutil.copy(source / "lq" / "CelebA" / "162798.png", source / "lq" / "Unknown" / "x.png")
    config = params.active_dataset.model_copy(update={"source": params.active_dataset.source.model_copy(
        update={"path": str(source)})})
    with pytest.raises(ValueError, match="Unknown"):
        fetch_dataset("x", config, ROOT, tmp_path / "ds")
    assert not (tmp_path / "ds").exists()
