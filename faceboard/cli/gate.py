"""`faceboard calibrate-gate`: per-subset thresholds of an offline identity backbone, from evidence."""

from __future__ import annotations

import argparse
from pathlib import Path

from faceboard import runlock


def register(sub: argparse._SubParsersAction) -> None:
    gate = sub.add_parser(
        "calibrate-gate", help="calibrate a non-official ID backbone's thresholds on a fetched dataset",
        description="Restore a fetched dataset with computed methods (resumable), add submitted outputs, and "
        "choose per-subset thresholds by the rule of faceboard/identity/calibration.py; writes "
        "data/calibration/<backbone>.csv, whose thresholds params.yaml must carry.")
    gate.add_argument("--dataset", default="ntire2025-val", help="a fetched dataset with landmarks (default: %(default)s)")
    gate.add_argument("--backbone", default="dlib_resnet")
    gate.add_argument("--methods", default="realesrgan-x4plus,opencv_nlm_sharpen",
                      help="comma-separated methods of params.yaml to restore the dataset with (default: %(default)s)")
    gate.add_argument("--submission", action="append", default=[], metavar="NAME=DIR",
                      help="a folder of outputs for the dataset, <Subset>/<name>.png (repeatable)")
    gate.add_argument("--far", type=float, default=0.01, help="impostors accepted, at most (default: %(default)s)")
    gate.add_argument("--frr", type=float, default=0.01,
                      help="genuine faces of any restorer rejected, at most (default: %(default)s)")
    gate.add_argument("--device", help="auto, cpu or cuda (default: params.yaml)")
    gate.set_defaults(handler=_calibrate, lock=runlock.of_project)


def _calibrate(args: argparse.Namespace, root: Path) -> int:
    from faceboard.catalog import Catalog
    from faceboard.config import load_params
    from faceboard.device import resolve_device
    from faceboard.env import PARAMS_FILE
    from faceboard.identity.calibration import Targets, thresholds
    from tasks.calibrate import calibrate_gate

    params = load_params(root / PARAMS_FILE)
    submissions = {}
    for item in args.submission:
        name, sep, folder = item.partition("=")
        if not sep or not Path(folder).is_dir():
            raise ValueError(f"--submission {item!r}: expected NAME=DIR with an existing DIR")
        submissions[name] = Path(folder)
    methods = [m for m in args.methods.split(",") if m]
    table = calibrate_gate(params, root, args.dataset, args.backbone, methods, submissions,
                           resolve_device(args.device or params.device), Targets(far=args.far, frr=args.frr))
    print(table.to_string(index=False, float_format=lambda x: f"{x:.4f}"))
    print(f"written: {Catalog(root).gate_calibration(args.backbone)}")
    print(f"params.yaml id_threshold.{args.backbone}: {thresholds(table)}")
    return 0
