"""`faceboard score`: score a folder of restored images a team submitted."""

from __future__ import annotations

import argparse
from pathlib import Path

from faceboard import env, prefect_api


def register(sub: argparse._SubParsersAction) -> None:
    score = sub.add_parser("score", help="score a folder of restored images")
    score.add_argument("submission", help="folder laid out as <Subset>/<name>.<ext>, or flat")
    score.add_argument("--lq", help="LQ folder: enables the identity gate")
    score.add_argument("--landmarks", help="CSV of 5-point landmarks on the LQ images (default: landmarks.csv "
                       "in or beside the LQ folder, else detected on the LQ images)")
    score.add_argument("--metrics", help="comma-separated metric names (default: params.yaml)")
    score.add_argument("--backbone", help="ID backbone (default: params.yaml identity.backbone)")
    score.add_argument("--device", help="auto, cpu or cuda (default: params.yaml)")
    score.add_argument("--out", required=True, help="output folder")
    score.set_defaults(handler=_score, lock=_out_folder)


def _out_folder(args: argparse.Namespace, root: Path) -> tuple[Path, Path]:
    """Two `faceboard score` may run at once, each writing its own --out folder."""
    from faceboard.catalog import BoardFiles

    return BoardFiles(Path(args.out)).lock, Path(args.out)


def _score(args: argparse.Namespace, root: Path) -> int:
    if args.lq and not Path(args.lq).is_dir():
        raise FileNotFoundError(f"--lq {args.lq}: no such folder")
    prefect_api.start_early()
    from faceboard.catalog import BoardFiles, Catalog
    from faceboard.config import load_params
    from faceboard.device import resolve_device
    from faceboard.scoring.per_image import ScorerSpec, loaded
    from flows.score_submission import score_submission

    params = load_params(root / env.PARAMS_FILE)
    names = args.metrics.split(",") if args.metrics else list(params.metrics)
    metrics = {name: params.metrics.get(name, {}) for name in names}
    landmarks = args.landmarks
    if args.lq and not landmarks:  # a landmarks.csv in or beside the LQ folder, else detect on the LQ images
        guess = [p for p in (Path(args.lq) / "landmarks.csv", Path(args.lq).parent / "landmarks.csv") if p.is_file()]
        landmarks = str(guess[0]) if guess else None
    backbone = (args.backbone or params.identity.backbone) if args.lq else None
    spec = ScorerSpec(metrics, backbone, resolve_device(args.device or params.device), Catalog(root).cache)
    loaded(spec)  # the models load while Prefect's server starts
    prefect_api.ready()
    report = score_submission(args.submission, args.out, params, spec, args.lq, landmarks)
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
    if report["comparable_to_official"]:
        print("  comparable to the official score")
    for why in report["not_comparable_to_official"]:
        print(f"  not comparable: {why}")
    board = BoardFiles(Path(args.out))
    print(f"leaderboard: {board.leaderboard}\nper-image:   {board.per_image}\npairwise:    {board.pairwise}\n"
          f"run:         {board.run_info}\npage:        {board.page}")
    return 0
