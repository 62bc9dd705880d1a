"""The `faceboard` command line: one module per command group, each adding its subcommands.

A module registers with `register(sub)`; its subcommands set `handler(args, root)` and, where they
run outside a project, `needs_root=False`; `online(args)` says whether a command may go online.
"""

from __future__ import annotations

import argparse
import os
import sys
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

GROUPS = (pipeline, data, degrade, scoring, report, gate, inventory, methods, weights)


def main(argv: list[str] | None = None) -> int:
    args = parser().parse_args(argv)
    if args.online(args):
        os.environ.setdefault("FACEBOARD_ONLINE", "1")  # only commands that download go online
    root = env.find_root() if args.needs_root else _optional_root()
    env.configure(root)
    try:
        return args.handler(args, root)
    except (FileNotFoundError, NotADirectoryError, KeyError, ValueError) as err:
        print(f"faceboard: error: {err}", file=sys.stderr)
        return 2


def parser() -> argparse.ArgumentParser:
    top = argparse.ArgumentParser(prog="faceboard", description="Reproducible leaderboards for blind face restoration.")
    top.set_defaults(needs_root=True, online=lambda args: False)
    sub = top.add_subparsers(dest="command", required=True)
    for group in GROUPS:
        group.register(sub)
    return top


def _optional_root() -> Path | None:
    try:
        return env.find_root()
    except FileNotFoundError:
        return None
