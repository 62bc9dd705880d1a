"""The `faceboard` command line: one module per command group, each adding its subcommands.

A module registers with `register(sub)`; its subcommands set `handler(args, root)` and, where they
run outside a project, `needs_root=False`; `online(args)` says whether a command may go online.
"""

from __future__ import annotations

import argparse
import errno
import os
import sys
from contextlib import nullcontext
from pathlib import Path

from faceboard import env
from faceboard.cli import (
    data,
    degrade,
    gate,
    inventory,
    methods,
    pipeline,
    report,
    scoring,
    weights,
)
from faceboard.runlock import RunLocked, exclusive

GROUPS = (pipeline, data, degrade, scoring, report, gate, inventory, methods, weights)
LOCKED = 75  # exit status: another faceboard run holds the project (EX_TEMPFAIL: try again later)
NO_SPACE = 74  # exit status: a write failed for want of space (EX_IOERR)
DISK_FULL = (errno.ENOSPC, errno.EDQUOT, errno.EFBIG)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.online(args):
        os.environ.setdefault("FACEBOARD_ONLINE", "1")  # only commands that download go online
    root = env.find_root() if args.needs_root else _optional_root()
    env.configure(root)
    try:
        with _held(args, root):
            return args.handler(args, root)
    except RunLocked as err:
        print(f"faceboard: {err}", file=sys.stderr)
        return LOCKED
    except (FileNotFoundError, NotADirectoryError, KeyError, ValueError) as err:
        print(f"faceboard: error: {err}", file=sys.stderr)
        return 2
    except OSError as err:
        if err.errno not in DISK_FULL:
            raise
        print(f"faceboard: error: cannot write {err.filename or 'a file'}: {err.strerror}. Finished work is kept "
              "and nothing half-written is left: free space, then run the same command again; it goes on where it "
              "stopped.", file=sys.stderr)
        return NO_SPACE


def _held(args: argparse.Namespace, root: Path | None):
    """The command's lock (`args.lock(args, root)`: a lock file and what it guards), held for the command."""
    found = args.lock(args, root)
    return nullcontext() if found is None else exclusive(*found)


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="faceboard", description="Reproducible leaderboards for blind face restoration.")
    top.set_defaults(needs_root=True, online=lambda args: False, lock=lambda args, root: None)
    sub = top.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return top


def _optional_root() -> Path | None:
    try:
        return env.find_root()
    except FileNotFoundError:
        return None
