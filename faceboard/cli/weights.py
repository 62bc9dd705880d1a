"""`faceboard weights status|fetch|import`: the model files every metric, backbone and method needs."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    weights = sub.add_parser("weights", help="weight files: status, fetch [NAME], import DIR")
    weights.add_argument("action", choices=("status", "fetch", "import"))
    weights.add_argument("target", nargs="?", help="weight NAME for fetch, DIR for import")
    weights.set_defaults(handler=_weights, needs_root=False, online=lambda args: args.action == "fetch")


def _weights(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.weights import manage
    from faceboard.weights.registry import WEIGHTS

    if args.action == "status":
        print(f"{'name':22} {'state':13} {'file':40} fix / sha256")
        for weight in WEIGHTS.values():
            st = manage.status(weight)
            print(f"{weight.name:22} {st.state:13} {weight.file_name[:40]:40} {st.fix or st.digest}")
        return 0
    if args.action == "fetch":
        names = [args.target] if args.target else [w.name for w in WEIGHTS.values() if not w.present()]
        failed = 0
        for name in names:
            try:
                print(f"{name}: {manage.fetch(name)}")
            except (OSError, RuntimeError) as err:
                failed += 1
                print(f"{name}: {err}", file=sys.stderr)
        return 1 if failed else 0
    if not args.target:
        raise ValueError("weights import needs a DIR holding the downloaded files")
    for weight, digest in manage.import_dir(Path(args.target)):
        print(f"{weight.name}: {weight.path} (sha256 {digest})")
    return 0
