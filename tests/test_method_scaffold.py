"""`faceboard method new`: a one-folder method that registers itself, runs end to end and passes its own test."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from faceboard.config import MethodConfig, SecurityConfig
from faceboard.imageio import read_rgb
from faceboard.methods import contrib, registry
from faceboard.methods.scaffold import new_method
from tests.conftest import ROOT, SAMPLE, copy_project, run_cli

LQ = SAMPLE / "lq"


@pytest.mark.parametrize("kind", ["python", "ntire"])
def test_a_scaffolded_method_restores_the_sample_through_restore_method(tmp_path, kind):
    from tasks.restore import restore_method

    name, package = f"my-{kind}-sharpen", f"my_{kind}_sharpen"  # one name per kind: modules stay imported
    folder = new_method(tmp_path, name, kind)
    assert folder == tmp_path / "methods_contrib" / package
    assert {p.name for p in folder.iterdir()} == {"__init__.py", "method.yaml", f"test_{package}.py"}
    spec = registry.get(name, tmp_path)
    assert spec.kind == kind and spec.entry == f"methods_contrib.{package}:{'build' if kind == 'python' else 'main'}"
    assert name not in registry.methods()  # plugins belong to their project only

    out = tmp_path / "out"
    log = restore_method("mine", MethodConfig(type=name), LQ, out, tmp_path, security=SecurityConfig(team_code=True))
    assert len(log) == 10 and (log["status"] == "ok").all() and (log["stages"] == name).all()
    for row in log.itertuples():
        restored = read_rgb(out / row.subset / f"{row.image}.png")
        original = read_rgb(LQ / row.subset / f"{row.image}.png")
        assert restored.shape == (512, 512, 3) and np.abs(restored.astype(int) - original.astype(int)).mean() > 0.1


@pytest.mark.slow
def test_method_new_cli_then_the_generated_test_passes_in_a_fresh_project(tmp_path):
    project = copy_project(tmp_path)
    done = run_cli("method", "new", "team07-unsharp", "--kind", "ntire", cwd=project)
    assert "created methods_contrib/team07_unsharp/ for method type `team07-unsharp` (kind ntire)" in done.stdout
    assert "    team07-unsharp:\n      type: team07-unsharp" in done.stdout
    assert "python -m pytest methods_contrib/team07_unsharp" in done.stdout
    assert "  security:\n    team_code: true" in done.stdout  # an ntire method runs only as permitted team code
    listed = run_cli("methods", cwd=project).stdout
    assert any(line.split()[:2] == ["team07-unsharp", "ntire"] for line in listed.splitlines())
    tested = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "methods_contrib/team07_unsharp"],
                            cwd=project, capture_output=True, text=True, check=False)
    assert tested.returncode == 0 and "1 passed" in tested.stdout, tested.stdout + tested.stderr


def test_method_new_refuses_clashes_and_bad_names(tmp_path):
    new_method(tmp_path, "mine", "python")
    for name, kind, error in (("lq", "python", "already exists"), ("mine", "python", "already exists"),
                              ("Bad Name", "python", "lower-case"), ("ok", "chain", "kind 'chain'")):
        with pytest.raises((ValueError, FileExistsError), match=error):
            new_method(tmp_path, name, kind)
    done = run_cli("method", "new", "lq", cwd=ROOT, check=False)
    assert done.returncode == 2 and "method type 'lq' already exists" in done.stderr


def test_a_broken_registration_is_reported_with_its_file(tmp_path):
    folder = tmp_path / "methods_contrib" / "bad"
    folder.mkdir(parents=True)
    (folder / "method.yaml").write_text("kind: python\nentry: x:y\ngpu: yes\n")
    with pytest.raises(ValueError, match=r"methods_contrib/bad/method.yaml: not a valid method registration(.|\n)*gpu"):
        contrib.discover(tmp_path)
