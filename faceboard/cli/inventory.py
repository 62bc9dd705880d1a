"""`faceboard metrics`: which metrics exist, which can run here, and what is missing."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("metrics", help="list metrics, mode, direction, availability").set_defaults(
        handler=_metrics, needs_root=False)


def _metrics(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.metrics.table import METRICS, availability

    print(f"{'metric':10} {'mode':14} {'direction':14} {'official':8} {'available':9} why")
    for name, spec in METRICS.items():
        ok, why = availability(name)
        direction = "lower better" if spec.lower_better else "higher better"
        print(f"{name:10} {spec.mode:14} {direction:14} {'yes' if spec.official else 'no':8} {'yes' if ok else 'no':9} "
              f"{why}")
    return 0

