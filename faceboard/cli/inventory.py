"""`faceboard metrics` and `faceboard methods`: what exists, what can run here, what is missing."""

from __future__ import annotations

import argparse
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    sub.add_parser("metrics", help="list metrics, direction, availability").set_defaults(
        handler=_metrics, needs_root=False)
    sub.add_parser("methods", help="list method types").set_defaults(handler=_methods, needs_root=False)


def _metrics(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.metrics.table import METRICS, availability

    print(f"{'metric':10} {'direction':14} {'official':8} {'available':9} why")
    for name, spec in METRICS.items():
        ok, why = availability(name)
        direction = "lower better" if spec.lower_better else "higher better"
        print(f"{name:10} {direction:14} {'yes' if spec.official else 'no':8} {'yes' if ok else 'no':9} {why}")
    return 0


def _methods(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.methods.registry import METHODS

    print(f"{'type':20} {'kind':11} {'gpu':4} description")
    for name, spec in METHODS.items():
        print(f"{name:20} {spec.kind:11} {'yes' if spec.needs_gpu else 'no':4} {spec.description}")
    return 0
