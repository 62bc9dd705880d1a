"""One run at a time: a project (or a `faceboard score` output folder) is held by one faceboard process.

A second run on the same project stops at once with who holds it, instead of writing beside the first. The
lock is an OS file lock (`filelock`, flock on Linux): it is released when the holder ends, even when killed,
so no stale lock is ever left to clear by hand. The holder's child processes (`dvc repro` running each stage
as `faceboard stage ...`) inherit it through HELD and do not wait for their parent.
"""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from faceboard.files import write_json_atomic

HELD = "FACEBOARD_LOCKS_HELD"  # the lock files this process and its children hold, os.pathsep-separated


class RunLocked(RuntimeError):
    """Another faceboard process holds the lock."""


@contextmanager
def exclusive(lock_file: Path, target: Path) -> Iterator[None]:
    """Hold `lock_file` (guarding `target`, a project or an output folder) for the block; raise RunLocked at once,
    naming the holder, when another process holds it."""
    from filelock import FileLock, Timeout

    key = str(Path(lock_file).resolve())
    held = [k for k in os.environ.get(HELD, "").split(os.pathsep) if k]
    if key in held:
        yield
        return
    Path(lock_file).parent.mkdir(parents=True, exist_ok=True)
    lock = FileLock(key)
    try:
        lock.acquire(timeout=0)
    except Timeout:
        raise RunLocked(f"{_holder(lock_file)} is already running on {target}; wait for it "
                        f"to finish, then run again (the lock, {lock_file}, is freed when that process ends, "
                        "even if it is killed)") from None
    try:
        write_json_atomic(_holder_file(lock_file), {"pid": os.getpid(), "command": _command(),
                                                    "started": time.strftime("%Y-%m-%d %H:%M:%S %Z")})
        os.environ[HELD] = os.pathsep.join([*held, key])
        yield
    finally:
        os.environ[HELD] = os.pathsep.join(held)
        lock.release()


def of_project(args: object, root: Path) -> tuple[Path, Path]:
    """A command's `lock`: the project it writes (lock file, project root)."""
    from faceboard.catalog import Catalog

    return Catalog(root).run_lock, root


def _holder(lock_file: Path) -> str:
    try:
        holder = json.loads(_holder_file(lock_file).read_text())
        return f"`{holder['command']}` (pid {holder['pid']}, since {holder['started']})"
    except (OSError, ValueError, KeyError):
        return "another faceboard run"


def _holder_file(lock_file: Path) -> Path:
    return Path(lock_file).with_suffix(".holder.json")


def _command() -> str:
    return " ".join(["faceboard", *sys.argv[1:]]) if sys.argv and "faceboard" in sys.argv[0] else " ".join(sys.argv)
