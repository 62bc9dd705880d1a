"""DVC as a person runs it in a project: `dvc pull`, `repro`, `push`, `status`, and the default remote."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from faceboard.env import with_venv_on_path

TAIL = 4000  # characters of a failed command's output kept in its error


class DvcFailed(RuntimeError):
    """A dvc command exited with an error (`returncode`); the message ends with the tail of its output."""

    def __init__(self, message: str, returncode: int) -> None:
        super().__init__(message)
        self.returncode = returncode


def dvc(root: Path, *args: str, echo: bool = False) -> str:
    """Run `dvc ARGS` in `root` and return its output (stdout and stderr); `echo` prints it line by line as it
    comes (a long `dvc repro` shows its stages' progress). Raises DvcFailed on a non-zero exit."""
    command = [sys.executable, "-m", "dvc", *args]
    with subprocess.Popen(command, cwd=root, env=with_venv_on_path(), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, text=True) as process:
        lines = []
        for line in process.stdout:
            lines.append(line)
            if echo:
                print(line, end="", flush=True)
        code = process.wait()
    output = "".join(lines)
    if code:
        raise DvcFailed(f"dvc {' '.join(args)} failed (exit {code}):\n{output[-TAIL:]}", code)
    return output


def stale_stages(root: Path) -> set[str]:
    """The stages `dvc status` finds changed (`restore@lq`, ...); a stage downstream of a changed one is
    not listed until that one has run."""
    output = dvc(root, "status", "--json")
    return set(json.loads(output[output.index("{"):])) if "{" in output else set()


def default_remote(root: Path) -> str | None:
    """The project's default DVC remote, or None when none is set."""
    try:
        return dvc(root, "remote", "default").strip() or None
    except DvcFailed:  # "No default remote set"
        return None


def stages_run(output: str) -> list[str]:
    """The stages a `dvc repro` output says it ran, in order."""
    return [line.split("'")[1] for line in output.splitlines() if line.startswith("Running stage '")]
