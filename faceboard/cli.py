"""The `faceboard` command line."""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
from pathlib import Path

from faceboard import env

STAGES = ("fetch", "restore", "score", "leaderboard", "report")


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "weights" and args.action == "fetch":
        os.environ.setdefault("FACEBOARD_ONLINE", "1")  # fetching is the one command that goes online
    root = env.find_root() if args.command not in ("metrics", "methods", "weights") else None
    env.configure(root or _optional_root())
    try:
        return args.handler(args, root)
    except (FileNotFoundError, NotADirectoryError, KeyError, ValueError) as err:
        print(f"faceboard: error: {err}", file=sys.stderr)
        return 2


def _optional_root() -> Path | None:
    try:
        return env.find_root()
    except FileNotFoundError:
        return None


def _run(args: argparse.Namespace, root: Path) -> int:
    """The whole leaderboard: `dvc repro` (skips what has not changed), or one in-process flow."""
    from faceboard.catalog import Catalog

    if args.no_dvc:
        from flows.leaderboard import full_leaderboard

        full_leaderboard(str(root))
    else:
        done = subprocess.run([sys.executable, "-m", "dvc", "repro"], cwd=root, env=env.with_venv_on_path())
        if done.returncode:
            return done.returncode
    cat = Catalog(root)
    print(f"leaderboard: {cat.leaderboard}\nper-image:   {cat.per_image}\nreport:      {cat.report}")
    return 0


def _stage(args: argparse.Namespace, root: Path) -> int:
    from flows import stages

    if args.stage in ("restore", "score"):
        if not args.method:
            raise ValueError(f"stage {args.stage} needs a METHOD")
        getattr(stages, f"{args.stage}_flow")(args.method, str(root))
    else:
        getattr(stages, f"{args.stage}_flow")(str(root))
    return 0


def _score(args: argparse.Namespace, root: Path) -> int:
    if args.lq and not Path(args.lq).is_dir():
        raise FileNotFoundError(f"--lq {args.lq}: no such folder")
    from faceboard.catalog import Catalog
    from faceboard.config import load_params
    from faceboard.device import resolve_device
    from flows.score_submission import score_submission

    params = load_params(root / env.PARAMS_FILE)
    names = args.metrics.split(",") if args.metrics else list(params.metrics)
    metrics = {name: params.metrics.get(name, {}) for name in names}
    landmarks = args.landmarks
    if args.lq and not landmarks:  # a landmarks.csv in or beside the LQ folder, else detect on the LQ images
        guess = [p for p in (Path(args.lq) / "landmarks.csv", Path(args.lq).parent / "landmarks.csv") if p.is_file()]
        landmarks = str(guess[0]) if guess else None
    report = score_submission(
        args.submission, args.out, params, metrics, resolve_device(args.device or params.device),
        str(Catalog(root).cache), args.lq, landmarks, args.backbone or params.identity.backbone)
    print(f"scored {report['images']} images of {args.submission}; failed: {report['failed_images']}")
    for key in ("missing", "extra", "ignored_files", "duplicates"):
        if report.get(key):
            print(f"  {key} ({len(report[key])}): {', '.join(report[key][:10])}")
    print(f"  identity gate: {report['id_gate']}")
    if "landmarks" in report:
        marks = report["landmarks"]
        print(f"  landmarks: {marks['source']} ({marks['path']})"
              + (f" (no face found in {len(marks['not_found'])} LQ images)" if marks.get("not_found") else ""))
    for name, why in report["unavailable_metrics"].items():
        print(f"  metric {name} unavailable: {why}")
    print(f"per-image: {Path(args.out) / 'per_image.parquet'}\nsummary:   {Path(args.out) / 'summary.parquet'}")
    return 0


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


def _serve(args: argparse.Namespace, root: Path) -> int:
    """A scheduled Prefect deployment of the whole leaderboard (needs a Prefect server for schedules)."""
    from flows.leaderboard import full_leaderboard

    full_leaderboard.serve(name="scheduled-leaderboard", cron=args.cron, parameters={"root": str(root)})
    return 0


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="faceboard", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    run = sub.add_parser("run", help="build the whole leaderboard (dvc repro)")
    run.add_argument("--no-dvc", action="store_true", help="run the Prefect flow in-process, without DVC")
    run.set_defaults(handler=_run)

    stage = sub.add_parser("stage", help="run one pipeline stage (what dvc.yaml calls)")
    stage.add_argument("stage", choices=STAGES)
    stage.add_argument("method", nargs="?")
    stage.set_defaults(handler=_stage)

    score = sub.add_parser("score", help="score a folder of restored images")
    score.add_argument("submission", help="folder laid out as <Subset>/<name>.<ext>, or flat")
    score.add_argument("--lq", help="LQ folder: enables the identity gate")
    score.add_argument("--landmarks", help="CSV of 5-point landmarks on the LQ images (default: landmarks.csv "
                       "in or beside the LQ folder, else detected on the LQ images)")
    score.add_argument("--metrics", help="comma-separated metric names (default: params.yaml)")
    score.add_argument("--backbone", help="ID backbone (default: params.yaml identity.backbone)")
    score.add_argument("--device", help="auto, cpu or cuda (default: params.yaml)")
    score.add_argument("--out", required=True, help="output folder")
    score.set_defaults(handler=_score)

    sub.add_parser("metrics", help="list metrics, direction, availability").set_defaults(handler=_metrics)
    sub.add_parser("methods", help="list method types").set_defaults(handler=_methods)

    weights = sub.add_parser("weights", help="weight files: status, fetch [NAME], import DIR")
    weights.add_argument("action", choices=("status", "fetch", "import"))
    weights.add_argument("target", nargs="?", help="weight NAME for fetch, DIR for import")
    weights.set_defaults(handler=_weights)

    serve = sub.add_parser("serve", help="serve a scheduled deployment of the leaderboard flow")
    serve.add_argument("--cron", default="0 3 * * *", help="schedule (default: daily at 03:00)")
    serve.set_defaults(handler=_serve)
    return parser


if __name__ == "__main__":
    sys.exit(main())
