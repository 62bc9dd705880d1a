"""Shared fixtures: the embedded sample and a throwaway copy of the project."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "data" / "samples" / "ntire2025-val"
SHARED_VAL = ROOT.parent / "shared" / "ntire2025" / "val"
FACEBOARD = [sys.executable, "-m", "faceboard.cli"]

os.environ.setdefault("FACEBOARD_CACHE", str(ROOT / ".cache" / "faceboard"))
os.environ.setdefault("FACEBOARD_PREFECT_IDLE_S", "60")  # the commands' shared Prefect server outlives them so long
from faceboard import env

env.configure(ROOT)


def pytest_sessionfinish(session, exitstatus) -> None:
    """Stop the Prefect server the tests' faceboard commands shared (faceboard/prefect_server.py)."""
    from faceboard import prefect_server

    prefect_server.stop()


@pytest.fixture(scope="session")
def sample() -> Path:
    return SAMPLE


def run_cli(*args: str, cwd: Path = ROOT, check: bool = True, env: dict[str, str] | None = None
            ) -> subprocess.CompletedProcess:
    done = subprocess.run([*FACEBOARD, *args], cwd=cwd, capture_output=True, text=True, env=env, check=False)
    if check and done.returncode:
        raise AssertionError(f"faceboard {' '.join(args)} failed ({done.returncode}):\n{done.stdout}\n{done.stderr}")
    return done


def copy_project(dest: Path) -> Path:
    """A fresh clone of the project (tracked and new, not ignored, files), as CI or a new user would have it."""
    listing = ["git", "ls-files", "-z", "--cached", "--others", "--exclude-standard"]
    files = subprocess.run(listing, cwd=ROOT, capture_output=True, check=True).stdout
    for rel in filter(None, files.decode().split("\0")):
        src = ROOT / rel
        if src.is_file():
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(src, dest / rel)
    for cmd in (["git", "init", "-q"], ["git", "add", "-A"],
                ["git", "-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "clone"]):
        subprocess.run(cmd, cwd=dest, check=True)
    return dest


def dvc(project: Path, *args: str) -> str:
    """`dvc ARGS` in `project`; its output, or an assertion error with it."""
    from faceboard.dvc_repo import DvcFailed
    from faceboard.dvc_repo import dvc as run_dvc

    try:
        return run_dvc(project, *args)
    except DvcFailed as err:
        raise AssertionError(str(err)) from None


@pytest.fixture(scope="session")
def reproduced_project(tmp_path_factory) -> tuple[Path, str]:
    """A fresh copy of the project after one `dvc repro` (minutes) and that run's output; the DVC pipeline,
    remote and schedule tests share it, in file order, each leaving it reproduced."""
    project = copy_project(tmp_path_factory.mktemp("clone"))
    return project, dvc(project, "repro")
