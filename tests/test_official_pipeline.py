"""The official pipeline end to end on the embedded sample, with random-weight checkpoints of the real networks.

`faceboard score` runs the AdaFace gate and niqe, clipiqa, maniqa, musiq, fid (qalign is requested
too and must be reported unavailable). The numbers are meaningless; the test checks that every
architecture loads from where the real files go, runs batched, and that nothing claims comparability.
"""

from __future__ import annotations

import json
import os
import shutil

import numpy as np
import pandas as pd
import pytest
import yaml

from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images
from faceboard.scoring.per_image import Scorer
from tasks.score import items_for
from tests.conftest import ROOT, SAMPLE, run_cli
from tests.random_weights import populate

SUBMISSION = SAMPLE / "submissions" / "team15_NAFNet"
PER_IMAGE = ("niqe", "clipiqa", "maniqa", "musiq")
OFFICIAL_THRESHOLDS = {"Wider-Test": 0.3, "WebPhoto-Test": 0.3, "LFW-Test": 0.6, "CelebChild-Test": 0.6, "CelebA": 0.5}
WEIGHTS = ("adaface_ir50_ms1mv2", "clip_rn50", "maniqa_koniq", "musiq_koniq", "fid_inception", "fid_ffhq512_stats")


@pytest.fixture(scope="module")
def env(tmp_path_factory):
    return {**os.environ, **populate(tmp_path_factory.mktemp("weights"), WEIGHTS)}


@pytest.fixture(scope="module")
def project(tmp_path_factory):
    return tmp_path_factory.mktemp("project")


def score(project, env, out, lq, metrics: str, batch_size: int):
    """`faceboard score` from a project whose params.yaml differs from the real one in two keys."""
    params = yaml.safe_load((ROOT / "params.yaml").read_text())
    params["batch_size"] = batch_size
    # MANIQA's default 20 crops of ViT-B/8 take ~100 s per image on 2 CPU cores; one crop takes ~4 s.
    # The option is recorded in provenance, and any non-default option makes a run not comparable.
    params["metrics"]["maniqa"] = {"test_sample": 1}
    (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    done = run_cli("score", str(SUBMISSION), "--lq", str(lq), "--landmarks", str(SAMPLE / "landmarks.csv"),
                   "--backbone", "adaface_ir50", "--metrics", metrics, "--device", "cpu", "--out", str(out),
                   cwd=project, env=env)
    return out, done.stdout


@pytest.fixture(scope="module")
def first(project, env):
    return score(project, env, project / "first", SAMPLE / "lq", ",".join([*PER_IMAGE, "fid", "qalign"]), 8)


@pytest.mark.slow
def test_every_metric_is_finite_per_image_and_fid_only_overall(first):
    out, _ = first
    per_image = pd.read_parquet(out / "per_image.parquet")
    assert len(per_image) == 10 and (per_image["status"] == "ok").all(), per_image["error"].tolist()
    assert (per_image["error"] == "").all()
    for column in (*PER_IMAGE, "id_sim"):
        assert np.isfinite(per_image[column]).all(), column
    assert "fid" not in per_image and "qalign" not in per_image
    summary = pd.read_parquet(out / "leaderboard.parquet").set_index("subset")
    assert np.isfinite(summary.loc["all", "fid"])
    assert summary.drop(index="all")["fid"].isna().all()
    fid = json.loads((out / "scores" / SUBMISSION.name / "set_metrics.json").read_text())["fid"]
    assert fid["images"] == 10 and fid["value"] == pytest.approx(summary.loc["all", "fid"])


@pytest.mark.slow
def test_qalign_is_unavailable_and_says_what_it_needs(first):
    out, stdout = first
    line = next(line for line in stdout.splitlines() if "metric qalign unavailable" in line)
    for need in ("q-future/one-align in the Hugging Face cache", "transformers==4.37.2", "icecream"):
        assert need in line
    provenance = json.loads((out / "scores" / SUBMISSION.name / "provenance.json").read_text())
    assert "qalign" in provenance["unavailable_metrics"] and "qalign" not in provenance["metrics"]


@pytest.mark.slow
def test_gate_is_adaface_with_the_official_thresholds(first):
    out, stdout = first
    assert "identity gate: adaface_ir50" in stdout
    per_image = pd.read_parquet(out / "per_image.parquet")
    assert per_image.set_index("subset")["id_threshold"].to_dict() == OFFICIAL_THRESHOLDS
    gate = json.loads((out / "scores" / SUBMISSION.name / "provenance.json").read_text())["id_backbone"]
    assert gate["backbone"] == "adaface_ir50" and gate["official"]


@pytest.mark.slow
def test_random_weights_are_never_comparable_and_each_file_is_named(first):
    out, _ = first
    summary = pd.read_parquet(out / "leaderboard.parquet")
    assert not summary["comparable_to_official"].any()
    provenance = json.loads((out / "scores" / SUBMISSION.name / "provenance.json").read_text())
    reasons = "\n".join(provenance["not_comparable_to_official"])
    published = ("RN50.pt", "musiq_koniq_ckpt-e95806b9.pth", "pt_inception-2015-12-05-6726825d.pth",
                 "inception_FFHQ_512-f7b384ab.pth")
    for file in published:
        assert f"{file}: mismatch: sha256 " in reasons and "does not match" in reasons, file
    for file in ("ckpt_koniq10k.pt", "model.safetensors", "adaface_ir50_ms1mv2.ckpt"):
        assert f"{file}: unpinned: no published or pinned sha256" in reasons, file
    assert "maniqa: options {'test_sample': 1}" in reasons and "qalign: not computed" in reasons
    assert provenance["metrics"]["niqe"]["weights_verified"] is True  # the provisioned file matches its pin
    overall = summary.set_index("subset").loc["all"]
    assert "RN50.pt" in overall["not_comparable_because"]


@pytest.mark.slow
def test_batch_size_leaves_per_image_values_unchanged(first, project, env):
    """Batches of 2 (first run) against batches of 1, on two subsets; MANIQA's eval crops are uniform, not random."""
    lq = project / "lq_two_subsets"
    for subset in ("CelebA", "LFW-Test"):
        shutil.copytree(SAMPLE / "lq" / subset, lq / subset)
    out, _ = score(project, env, project / "second", lq, ",".join(PER_IMAGE), 1)
    again = pd.read_parquet(out / "per_image.parquet").set_index(["subset", "image"])
    before = pd.read_parquet(first[0] / "per_image.parquet").set_index(["subset", "image"]).loc[again.index]
    assert len(again) == 4
    for column in (*PER_IMAGE, "id_sim"):
        assert before[column].std() > 1e-4, f"{column} hardly depends on the image: the check would prove nothing"
        np.testing.assert_allclose(again[column], before[column], atol=1e-5, rtol=0, err_msg=column)


def test_lq_embeddings_are_computed_once_across_methods(tmp_path, monkeypatch):
    for key, value in populate(tmp_path / "weights", ["adaface_ir50_ms1mv2"]).items():
        monkeypatch.setenv(key, value)
    lq, landmarks = list_images(SAMPLE / "lq"), load_landmarks(SAMPLE / "landmarks.csv")
    counts, sims = [], []
    runs = (("lq", SAMPLE / "lq", "cache"), ("team15_NAFNet", SUBMISSION, "cache"), ("team15_NAFNet", SUBMISSION, "new"))
    for method, folder, cache in runs:
        scorer = Scorer({}, "adaface_ir50", "cpu", tmp_path / cache)  # one per method, as the score stage does
        items, _ = items_for(lq, list_images(folder), landmarks)
        sims.append([row["id_sim"] for row in scorer.score(method, items)])
        counts.append(scorer.timings.counts)
    assert counts[0] == {"id computed": 10}  # outputs identical to their LQ inputs: each content embedded once
    np.testing.assert_allclose(sims[0], 1.0, atol=1e-6)
    assert counts[1] == {"id cached": 10, "id computed": 10}  # the LQ embeddings are reused by the next method
    assert counts[2] == {"id computed": 20}
    assert np.isfinite(sims[1]).all() and np.std(sims[1]) > 1e-3
    np.testing.assert_allclose(sims[1], sims[2], atol=1e-6, rtol=0)  # cached LQ embeddings equal fresh ones
