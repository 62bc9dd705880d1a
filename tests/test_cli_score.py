"""`faceboard score` on the embedded sample: outputs, gate, flat layout, bad images, pyiqa parity."""

from __future__ import annotations

import json

import cv2
import pandas as pd
import pytest
import torch

from faceboard.files import sha256_file
from faceboard.imageio import read_rgb
from faceboard.report import thumbnails
from tests.conftest import SAMPLE, run_cli

SUBMISSION = SAMPLE / "submissions" / "team15_NAFNet"


@pytest.fixture(scope="module")
def scored(tmp_path_factory):
    out = tmp_path_factory.mktemp("score")
    done = run_cli("score", str(SUBMISSION), "--lq", str(SAMPLE / "lq"), "--landmarks",
                   str(SAMPLE / "landmarks.csv"), "--metrics", "niqe,piqe", "--out", str(out))
    return out, done.stdout


def test_score_writes_per_image_and_leaderboard(scored):
    out, stdout = scored
    per_image = pd.read_parquet(out / "per_image.parquet")
    summary = pd.read_parquet(out / "leaderboard.parquet")
    assert len(per_image) == 10 and (per_image["status"] == "ok").all()
    for column in ("method", "subset", "image", "id_sim", "id_pass", "niqe", "piqe"):
        assert column in per_image
    assert per_image["id_sim"].between(-1, 1).all()
    assert sorted(summary["subset"]) == sorted(["all", "CelebA", "CelebChild-Test", "LFW-Test",
                                                "WebPhoto-Test", "Wider-Test"])
    overall = summary[summary["subset"] == "all"].iloc[0]
    assert overall["n_images"] == 10 and overall["score_terms"] == "niqe"
    assert overall["score"] == pytest.approx(max(0.0, (10 - overall["niqe"]) / 10))
    assert not overall["comparable_to_official"]
    assert "leaderboard.parquet" in stdout and "run.json" in stdout
    page = (out / "leaderboard.html").read_text()  # the team's page: its outputs beside the LQ inputs
    gallery = thumbnails.read(out / "thumbnails.parquet")
    assert gallery.record["shown"] == 10 and gallery.record["columns"] == ["input", SUBMISSION.name]
    assert f"page:        {out / 'leaderboard.html'}" in stdout and 'id="gallery"' in page
    csv = SAMPLE / "landmarks.csv"
    landmarks = json.loads((out / "report.json").read_text())["landmarks"]
    assert landmarks == {"source": "csv", "path": str(csv), "sha256": sha256_file(csv)}


def test_niqe_and_piqe_equal_pyiqa_on_the_same_tensors(scored):
    import pyiqa

    out, _ = scored
    per_image = pd.read_parquet(out / "per_image.parquet").set_index(["subset", "image"])
    niqe, piqe = pyiqa.create_metric("niqe", device="cpu"), pyiqa.create_metric("piqe", device="cpu")
    for subset, image in [("CelebA", "162798"), ("CelebChild-Test", "149_Kristen Bell_00")]:
        rgb = read_rgb(SUBMISSION / subset / f"{image}.png")
        x = torch.from_numpy(rgb).permute(2, 0, 1)[None].float() / 255
        assert per_image.loc[(subset, image), "niqe"] == pytest.approx(float(niqe(x)), abs=1e-6)
        assert per_image.loc[(subset, image), "piqe"] == pytest.approx(float(piqe(x)), abs=1e-6)


def test_without_lq_the_gate_is_not_run(tmp_path):
    done = run_cli("score", str(SUBMISSION), "--metrics", "niqe", "--out", str(tmp_path))
    assert "identity gate: not run" in done.stdout
    summary = pd.read_parquet(tmp_path / "leaderboard.parquet")
    assert (summary["id_backbone"] == "not run").all()
    assert pd.read_parquet(tmp_path / "per_image.parquet")["id_sim"].isna().all()


def test_flat_folder_of_mixed_formats_with_a_corrupt_file(tmp_path):
    flat = tmp_path / "flat"
    flat.mkdir()
    images = sorted(SUBMISSION.rglob("*.png"))
    for i, path in enumerate(images):
        rgb = read_rgb(path)
        ext = [".png", ".jpg", ".bmp", ".webp"][i % 4]
        cv2.imwrite(str(flat / f"{path.stem}{ext}"), cv2.cvtColor(rgb, cv2.COLOR_RGB2BGR))
    broken = flat / f"{images[0].stem}.png"
    broken.write_bytes(broken.read_bytes()[:5000])
    out = tmp_path / "out"
    run_cli("score", str(flat), "--lq", str(SAMPLE / "lq"), "--landmarks", str(SAMPLE / "landmarks.csv"),
            "--metrics", "niqe", "--out", str(out))
    per_image = pd.read_parquet(out / "per_image.parquet")
    assert len(per_image) == 10
    bad = per_image[per_image["image"] == images[0].stem].iloc[0]
    assert bad["status"] == "failed" and "truncated" in bad["error"]
    assert not bad["id_pass"]
    # charged the worst NIQE on the board: every output and every LQ input
    others = per_image.drop(bad.name)
    assert per_image["lq_niqe"].notna().all()
    assert bad["charged"] == "niqe" and bad["niqe"] == max(per_image["lq_niqe"].max(), others["niqe"].max())
    assert (per_image.drop(bad.name)["status"] == "ok").all()
    assert per_image["subset"].nunique() == 5  # flat names were matched back to their LQ subsets


def test_an_lq_folder_without_images_is_a_clear_error(tmp_path):
    # Without --landmarks the LQ images' landmarks are detected (tests/test_detect.py); no images is an error.
    lq = tmp_path / "lq"
    lq.mkdir()
    done = run_cli("score", str(SUBMISSION), "--lq", str(lq), "--out", str(tmp_path / "o"), check=False)
    assert done.returncode == 2 and "no LQ images" in done.stderr
    done = run_cli("score", str(SUBMISSION), "--lq", str(tmp_path / "absent"), "--out", str(tmp_path / "o"),
                   check=False)
    assert done.returncode == 2 and "no such folder" in done.stderr
