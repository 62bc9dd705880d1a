"""The paired track end to end on the built-in HQ faces: degrade -> methods -> full-reference metrics,
identity similarity to HQ, its leaderboard, and the report's paired section and gallery."""

from __future__ import annotations

import base64
import json
import re

import cv2
import numpy as np
import pandas as pd
import pyiqa
import pytest
import torch
import yaml
from pydantic import ValidationError

from faceboard.catalog import BoardFiles, Catalog
from faceboard.config import load_params
from faceboard.degrade.presets import PRESETS
from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images
from faceboard.metrics import table
from faceboard.metrics.table import FULL_REFERENCE, MetricUnavailable
from faceboard.paired.faces import FACES, SOURCES
from faceboard.paired.metrics import ID_SIM_HQ
from faceboard.paired.scoring import Pair, PairedScorer
from faceboard.report import page
from faceboard.report.sections import SECTIONS, presets
from faceboard.report.sources import Sources
from faceboard.report.thumbnails import PRESET_CROP
from faceboard.weights.registry import get as get_weight
from tasks.degrade import (
    LANDMARKS,
    LQ,
    PARAMETERS,
    degrade_folder,
    prepare_hq,
    render_gallery,
    setting_for,
)
from tasks.paired import (
    build_paired_leaderboard,
    score_paired_method,
)
from tasks.report import presets_gallery
from tests.conftest import ROOT

METHODS = ["lq", "opencv_nlm_sharpen"]
LPIPS_ALEX, ALEXNET = get_weight("lpips_alex"), get_weight("alexnet_imagenet")


def _params(folder, **changes):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["paired"] = {"methods": METHODS, "metrics": ["psnr", "ssim", "lpips"]}
    raw.update(changes)
    (folder / "params.yaml").write_text(yaml.safe_dump(raw, sort_keys=False))
    return load_params(folder / "params.yaml")


@pytest.fixture(scope="module")
def track(tmp_path_factory):
    """The stages' functions, in dvc.yaml's order, in a throwaway project."""
    root = tmp_path_factory.mktemp("paired")
    params, cat = _params(root), Catalog(root)
    prepare_hq(cat.paired_hq)
    degrade_folder(cat.paired_hq, cat.paired_degraded, setting_for(params))
    render_gallery(cat.paired_hq, cat.paired_gallery, params)
    for method in METHODS:
        score_paired_method(method, params, cat, root, "cpu")
    board = build_paired_leaderboard(params, cat)
    presets_gallery(cat.paired_gallery, params.report, cat.paired_board)
    return root, params, cat, board


def _read(path) -> np.ndarray:
    """An image read without faceboard's reader, for independent checks."""
    return cv2.cvtColor(cv2.imread(str(path), cv2.IMREAD_COLOR), cv2.COLOR_BGR2RGB)


def _tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(rgb.transpose(2, 0, 1).astype(np.float32) / 255.0)[None]


def test_hq_faces_come_from_the_packages_with_their_sources(track):
    _, _, cat, _ = track
    names = [ref.name for ref in list_images(cat.paired_hq)]
    assert names == sorted(face.name for face in FACES)
    sources = json.loads((cat.paired_hq / SOURCES).read_text())
    assert {s["name"]: s["licence"].startswith("public domain") for s in sources} == dict.fromkeys(names, True)
    assert all(_read(cat.paired_hq / f"{n}.png").shape == (512, 512, 3) for n in names)
    assert set(load_landmarks(cat.paired_hq / LANDMARKS)) == {("all", n) for n in names}  # MTCNN found both faces


def test_the_parameter_table_has_one_row_per_hq_face(track):
    _, params, cat, _ = track
    table = pd.read_parquet(cat.paired_degraded / PARAMETERS)
    assert list(table["image"]) == sorted(face.name for face in FACES)
    assert set(table["preset"]) == {params.degradation.preset} and set(table["seed"]) == {params.seed}


def test_leaderboard_has_every_method_and_metric_with_directions(track):
    _, _, cat, board = track
    assert list(board["method"]) == METHODS
    assert list(board.columns[3:6]) == ["psnr", "ssim", "lpips"] and ID_SIM_HQ in board and "niqe" in board
    assert (board["n_images"] == 2).all() and (board["n_failed"] == 0).all()
    run = json.loads(cat.paired_board.run_info.read_text())
    assert run["lower_better"]["lpips"] and run["lower_better"]["niqe"] and not run["lower_better"]["psnr"]
    assert run["best"]["niqe"] == board.loc[board["niqe"].idxmin(), "method"]
    assert pd.read_parquet(cat.paired_board.leaderboard).equals(board)
    if not (LPIPS_ALEX.present() and ALEXNET.present()):  # offline: said, with the URL and the target path
        assert board["lpips"].isna().all()
        reason = run["unavailable_metrics"]["lpips"]
        assert LPIPS_ALEX.urls[0] in reason and "to $TORCH_HOME/hub/checkpoints/alexnet-owt-7be5be79.pth" in reason


def test_lq_psnr_and_ssim_equal_pyiqa_between_the_degraded_and_hq_faces(track):
    _, _, cat, board = track
    scores = pd.read_parquet(cat.paired_scores("lq").per_image).set_index("image")
    psnr, ssim = pyiqa.create_metric("psnr", device="cpu"), pyiqa.create_metric("ssim", device="cpu")
    expected = {}
    for name in scores.index:
        lq = _tensor(_read(cat.paired_degraded / LQ / "all" / f"{name}.png"))
        hq = _tensor(_read(cat.paired_hq / f"{name}.png"))
        expected[name] = float(psnr(lq, hq)), float(ssim(lq, hq))
        assert scores.loc[name, "psnr"] == pytest.approx(expected[name][0], abs=1e-6)
        assert scores.loc[name, "ssim"] == pytest.approx(expected[name][1], abs=1e-6)
        assert 5 < expected[name][0] < 40 and 0 < expected[name][1] < 1  # degraded, not identical
    lq_row = board.set_index("method").loc["lq"]
    assert lq_row["psnr"] == pytest.approx(np.mean([v[0] for v in expected.values()]), abs=1e-6)


def test_identity_of_hq_with_itself_is_one(track):
    _, params, cat, board = track
    marks = load_landmarks(cat.paired_hq / LANDMARKS)
    faces = [ref for ref in list_images(cat.paired_hq)]
    pairs = [Pair(r.subset, r.name, r.path, r.path, marks[(r.subset, r.name)]) for r in faces]
    pairs.append(Pair("all", "no_face", faces[0].path, faces[0].path, None))
    rows = PairedScorer(["psnr"], {}, params.identity.backbone, "cpu").score("hq", pairs)
    assert [r[ID_SIM_HQ] for r in rows[:2]] == [pytest.approx(1.0, abs=1e-5)] * 2
    assert all(r["psnr"] > 60 for r in rows)  # identical images
    assert np.isnan(rows[2][ID_SIM_HQ]) and "no face found on the HQ image" in rows[2]["error"]
    assert (board[ID_SIM_HQ] < 0.999).all() and (board[ID_SIM_HQ] > 0.5).all()


def test_restored_outputs_and_provenance_are_written(track):
    _, _, cat, _ = track
    for method in METHODS:
        folder = cat.paired_method(method)
        assert len(list((folder / "restored").rglob("*.png"))) == 2
        provenance = json.loads(cat.paired_scores(method).provenance.read_text())
        assert provenance["method"] == method and set(provenance["full_reference"]) >= {"psnr", "ssim"}
        assert provenance["full_reference"]["ssim"]["note"].startswith("pyiqa ssim: Y channel")


def test_a_submission_cannot_run_on_synthetic_lq(track):
    root, params, cat, _ = track
    with pytest.raises(ValueError, match="is a submission"):
        score_paired_method("team15_NAFNet", params, cat, root, "cpu")


@pytest.mark.parametrize("paired", [{"methods": ["nope"]}, {"methods": ["lq"], "metrics": ["psnr", "fsim"]},
                                    {"methods": ["lq"], "metrics": ["psnr", "niqe"]}])
def test_params_refuse_unknown_paired_methods_and_metrics(tmp_path, paired):
    raw = yaml.safe_load((ROOT / "params.yaml").read_text())
    raw["paired"] = paired
    (tmp_path / "params.yaml").write_text(yaml.safe_dump(raw))
    with pytest.raises(ValidationError):
        load_params(tmp_path / "params.yaml")


def test_lpips_runs_from_its_weight_files_and_reports_them_unverified(tmp_path, monkeypatch):
    """Random-weight AlexNet and LPIPS layers written where the real files go: loading and scoring, not numbers."""
    from pyiqa.archs.lpips_arch import LPIPS
    from torchvision.models import alexnet

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))

    def load():
        return table.load("lpips", modes=(FULL_REFERENCE,))

    with pytest.raises(MetricUnavailable, match=r"missing LPIPS_v0.1_alex-df73285e.pth: download https://\S+ "
                                                rf"to {re.escape(str(LPIPS_ALEX.path))}"):
        load()
    torch.manual_seed(0)
    ALEXNET.path.parent.mkdir(parents=True)
    torch.save(alexnet(weights=None).state_dict(), ALEXNET.path)
    LPIPS_ALEX.path.parent.mkdir(parents=True)
    torch.save(LPIPS(pretrained=False).state_dict(), LPIPS_ALEX.path)
    metric = load()
    a, b = torch.rand(2, 3, 64, 64, generator=torch.Generator().manual_seed(1)).split(1)
    same, different = metric(a, a)[0], metric(a, b)[0]
    assert same == pytest.approx(0.0, abs=1e-6) and different > 0
    provenance = metric.provenance()
    assert not provenance["weights_verified"] and set(provenance["weights_unverified"]) == {
        LPIPS_ALEX.file_name, ALEXNET.file_name}
    assert provenance["weights_trust"] == {LPIPS_ALEX.file_name: "mismatch", ALEXNET.file_name: "mismatch"}


def test_report_has_the_paired_section_and_the_gallery(track):
    _, _, cat, board = track
    src = Sources(BoardFiles(cat.root / "no-board"), cat.paired_board)  # the two sections read the paired board only
    env = page.environment()
    html = {s.name: env.get_template(s.template).render({**s.load(src), "name": s.name})
            for s in SECTIONS if s.name in ("paired", "presets")}
    section = html["paired"]
    for method in METHODS:
        assert f'<td class="l">{method}</td>' in section
    assert "psnr ↑" in section and "lpips ↓" in section and "id_sim_hq ↑" in section
    assert f"{board.set_index('method').loc['lq', 'psnr']:.4f}" in section
    gallery = presets.load(src)
    assert gallery["columns"] == ["hq", *PRESETS]
    uris = [uri for row in gallery["rows"] for uri in row["images"]]
    assert len(uris) == len(FACES) * (1 + len(PRESETS)) and html["presets"].count("data:image/webp;base64,") == len(uris)
    thumbs = [cv2.imdecode(np.frombuffer(base64.b64decode(u.split(",", 1)[1]), np.uint8), cv2.IMREAD_COLOR)
              for u in uris]
    assert all(t.shape == (PRESET_CROP, PRESET_CROP, 3) for t in thumbs)
    assert len({t.tobytes() for t in thumbs}) == len(thumbs)  # every preset differs from HQ and from the others
