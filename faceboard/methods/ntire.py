"""The `ntire` kind: a team's challenge code, plugged in unchanged, run only where params.yaml allows it.

The NTIRE 2025 challenge repository calls each team's `model_func(model_dir=..., input_path=...,
output_path=..., device=...)` once per subset folder: `input_path` holds the LQ PNGs, the function
writes restored PNGs of the same names into `output_path`, `device` is a `torch.device`.

A team's code is untrusted. It runs only with `security.team_code: true`, and then always in a process of
its own (`python -m faceboard.methods.ntire`), in its own working folder holding a copy of the inputs, and is
killed (with everything it started) after the timeout. What comes back is its exit status, the tail of its
error output (text) and the files it wrote, which faceboard then decodes strictly as images: nothing from
it is ever unpickled. This isolates crashes, hangs and stray writes into the working folder; it is not a
sandbox (the code runs as the same user, with the same file and network access).

Options: `model_dir` (the team's `model_zoo/<team>` folder; relative paths are taken from the project
root) and, for the generic `ntire` type, `entry` (`module:function`, importable from the project root).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from faceboard.methods.registry import MethodSpec
from faceboard.plugins import resolve

TEAM_CODE_OFF = ("team code is off: `ntire` methods run a team's own Python code; read it, then set "
                 "`security.team_code: true` in params.yaml")


class TeamCodeFailed(RuntimeError):
    """The team's process failed or was killed; the message says how (and ends with its last error line)."""


class TeamCodeTimedOut(TeamCodeFailed):
    """The team's process ran past the timeout and was killed with its children."""


class NtireCall:
    """One method's `model_func`, bound to its model folder and device: `call(input_path, output_path)`."""

    def __init__(self, spec: MethodSpec, options: dict, device: str, root: Path | None) -> None:
        allowed = {"model_dir"} if spec.entry else {"model_dir", "entry"}
        extra = set(options) - allowed
        if extra:
            raise ValueError(f"unknown options for {spec.name}: {sorted(extra)} (known: {sorted(allowed)})")
        entry = spec.entry or options.get("entry")
        if not entry:
            raise ValueError(f"method type {spec.name!r} needs option `entry` (module:function)")
        self.model_func = resolve(entry)
        self.model_dir = _model_dir(options.get("model_dir"), root)
        self.device = device

    def __call__(self, input_path: str, output_path: str) -> None:
        import torch

        self.model_func(model_dir=self.model_dir, input_path=input_path, output_path=output_path,
                        device=torch.device(self.device))


def run_isolated(method_type: str, options: dict, device: str, root: Path, input_path: Path, output_path: Path,
                 workdir: Path, timeout_s: float) -> None:
    """Run the team's `model_func` on one folder in a new process (its own session) with `workdir` as its current
    folder; raise TeamCodeTimedOut after `timeout_s` (the whole process group killed) or TeamCodeFailed."""
    request = {"type": method_type, "options": options, "device": device, "root": str(Path(root).resolve()),
               "input": str(input_path), "output": str(output_path)}
    # its error output goes to a file, not a pipe: a process it left behind cannot keep faceboard waiting
    with tempfile.TemporaryFile("w+", errors="replace") as err:
        proc = subprocess.Popen([sys.executable, "-m", "faceboard.methods.ntire", json.dumps(request)], cwd=workdir,
                                stdout=subprocess.DEVNULL, stderr=err, start_new_session=True)
        try:
            proc.wait(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            raise TeamCodeTimedOut(f"timed out after {timeout_s:g} s") from None
        finally:
            _kill_group(proc.pid)  # on a timeout the team's process, and always anything it left running
            proc.wait()
        err.seek(0)
        last = next((line for line in reversed(err.read().splitlines()) if line.strip()), "")
    if proc.returncode:
        if proc.returncode == 1 and last:  # faceboard's own last line: `Type: message`
            raise TeamCodeFailed(last)
        how = f"killed by signal {-proc.returncode}" if proc.returncode < 0 else f"exit status {proc.returncode}"
        raise TeamCodeFailed(f"the team's process ended ({how})" + (f"; its last error line: {last}" if last else ""))


def _kill_group(pgid: int) -> None:
    try:
        os.killpg(pgid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _model_dir(value: str | None, root: Path | None) -> str | None:
    if value is None:
        return None
    path = Path(value)
    if not path.is_absolute() and root is not None:
        path = Path(root) / path
    if not path.exists():
        raise FileNotFoundError(f"model_dir {path} does not exist")
    return str(path)


def _serve(request: dict) -> None:
    """In the team's process: load the method as registered and call it once; an error's last line says which."""
    from faceboard.methods import registry
    from faceboard.methods.contrib import importable

    root = Path(request["root"])
    try:
        importable(root)
        call = NtireCall(registry.get(request["type"], root), request["options"], request["device"], root)
    except Exception as exc:
        raise RuntimeError(f"could not load the method: {type(exc).__name__}: {exc}") from exc
    call(request["input"], request["output"])


if __name__ == "__main__":
    try:
        _serve(json.loads(sys.argv[1]))
    except Exception as exc:  # noqa: BLE001 - the parent reads the last line as the error
        import traceback

        traceback.print_exc()
        print(str(exc) if str(exc).startswith("could not load") else f"{type(exc).__name__}: {exc}", file=sys.stderr)
        sys.exit(1)
