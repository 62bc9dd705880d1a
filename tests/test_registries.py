"""Registries list without importing torch; `faceboard metrics` / `methods` tell what can run and why."""

from __future__ import annotations

import os
import subprocess
import sys

from faceboard import env
from tests.conftest import ROOT


def test_listing_imports_no_torch():
    code = ("import sys; import faceboard.metrics.table, faceboard.methods.registry, faceboard.identity.backbones, "
            "faceboard.weights.registry; bad = [m for m in ('torch', 'pyiqa', 'dlib', 'prefect') if m in sys.modules]; "
            "assert not bad, bad")
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_metrics_command_reports_availability_and_fixes(tmp_path):
    env = {**os.environ, "FACEBOARD_CACHE": str(tmp_path), "TORCH_HOME": str(tmp_path / "torch")}
    done = subprocess.run([sys.executable, "-m", "faceboard.cli", "metrics"], cwd=ROOT, env=env,
                          capture_output=True, text=True, check=True)
    rows = {line.split()[0]: line for line in done.stdout.splitlines()[1:]}
    assert set(rows) >= {"niqe", "clipiqa", "maniqa", "musiq", "qalign", "fid", "piqe", "psnr", "ssim", "lpips"}
    assert {name: row.split()[1] for name, row in rows.items() if name in ("niqe", "fid", "psnr", "lpips")} == {
        "niqe": "no-reference", "fid": "set", "psnr": "full-reference", "lpips": "full-reference"}
    assert "lower better" in rows["niqe"] and "higher better" in rows["musiq"]
    assert "provisioned offline" in rows["niqe"]
    assert " no " in rows["clipiqa"] and f"{tmp_path}/torch/hub/clip/RN50.pt" in rows["clipiqa"]
    assert "https://" in rows["musiq"]
    assert "ready" in rows["piqe"]
    for need in ("q-future/one-align in the Hugging Face cache", "transformers==4.37.2", "icecream"):
        assert need in rows["qalign"]
    assert f"{tmp_path}/torch/hub/checkpoints/pt_inception-2015-12-05-6726825d.pth" in rows["fid"]


def test_hugging_face_is_offline_unless_the_user_says_otherwise(monkeypatch):
    monkeypatch.delenv("HF_HUB_OFFLINE", raising=False)
    monkeypatch.delenv("FACEBOARD_ONLINE", raising=False)
    env.configure()
    assert os.environ["HF_HUB_OFFLINE"] == "1"
    monkeypatch.setenv("HF_HUB_OFFLINE", "0")
    env.configure()
    assert os.environ["HF_HUB_OFFLINE"] == "0"
    monkeypatch.delenv("HF_HUB_OFFLINE")
    monkeypatch.setenv("FACEBOARD_ONLINE", "1")
    env.configure()
    assert "HF_HUB_OFFLINE" not in os.environ


def test_methods_command_lists_kinds_gpu_needs_and_weights():
    done = subprocess.run([sys.executable, "-m", "faceboard.cli", "methods"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    rows = {line.split()[0]: line.split()[:4] for line in done.stdout.splitlines()[1:] if not line.startswith(" ")}
    assert rows["lq"] == ["lq", "python", "no", "-"]
    assert rows["realesrgan-x4plus"] == ["realesrgan-x4plus", "python", "no", "present"]
    assert rows["submission"][1] == "submission" and rows["chain"][1] == "chain"
    assert rows["ntire"][1:3] == ["ntire", "yes"]


def test_methods_command_names_missing_weights_and_their_fix(tmp_path, monkeypatch, capsys):
    from faceboard.cli import main
    from faceboard.methods import registry

    monkeypatch.setenv("FACEBOARD_CACHE", str(tmp_path))
    spec = registry.MethodSpec("needs-adaface", registry.PYTHON, "x:y", "test", needs_gpu=True,
                               weights=("adaface_ir50_ms1mv2",))
    monkeypatch.setitem(registry.METHODS, spec.name, spec)
    assert main(["methods"]) == 0
    lines = capsys.readouterr().out.splitlines()
    row = next(i for i, line in enumerate(lines) if line.startswith("needs-adaface "))
    assert lines[row].split()[1:4] == ["python", "yes", "missing"]
    fix = lines[row + 1]
    assert "missing adaface_ir50_ms1mv2.ckpt: faceboard weights fetch adaface_ir50_ms1mv2" in fix
    assert "https://drive.google.com/" in fix and str(tmp_path / "adaface" / "adaface_ir50_ms1mv2.ckpt") in fix


def test_metrics_flags_a_weight_file_whose_digest_differs(tmp_path, monkeypatch):
    from faceboard.metrics.table import availability

    monkeypatch.setenv("TORCH_HOME", str(tmp_path / "torch"))
    musiq = tmp_path / "torch" / "hub" / "pyiqa" / "musiq_koniq_ckpt-e95806b9.pth"
    musiq.parent.mkdir(parents=True)
    musiq.write_bytes(b"not the published checkpoint")
    ok, why = availability("musiq")
    assert ok and "differ" in why and "not comparable" in why
