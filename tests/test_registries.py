"""Registries list without importing torch; `faceboard metrics` / `methods` tell what can run and why."""

from __future__ import annotations

import os
import subprocess
import sys

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
    assert set(rows) >= {"niqe", "clipiqa", "maniqa", "musiq", "qalign", "fid", "piqe"}
    assert "lower better" in rows["niqe"] and "higher better" in rows["musiq"]
    assert "provisioned offline" in rows["niqe"]
    assert " no " in rows["clipiqa"] and f"{tmp_path}/torch/hub/clip/RN50.pt" in rows["clipiqa"]
    assert "https://" in rows["musiq"]
    assert "ready" in rows["piqe"]


def test_methods_command_lists_types():
    done = subprocess.run([sys.executable, "-m", "faceboard.cli", "methods"], cwd=ROOT,
                          capture_output=True, text=True, check=True)
    assert {"lq", "opencv_nlm_sharpen", "submission"} <= {line.split()[0] for line in done.stdout.splitlines()[1:]}
