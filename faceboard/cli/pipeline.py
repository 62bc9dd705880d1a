"""`faceboard run`, `stage` and `serve`: the leaderboard DAG, whole, one stage, or on a schedule."""

from __future__ import annotations

import argparse
import subprocess
import sys
from pathlib import Path

from faceboard import env, prefect_api

STAGES = ("fetch", "restore", "score", "leaderboard", "degrade", "paired", "report")
PER_METHOD = ("restore", "score")


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="build the whole leaderboard (dvc repro)")
    run.add_argument("--no-dvc", action="store_true", help="run the Prefect flow in-process, without DVC")
    run.set_defaults(handler=_run)

    stage = sub.add_parser("stage", help="run one pipeline stage (what dvc.yaml calls)")
    stage.add_argument("stage", choices=STAGES)
    stage.add_argument("method", nargs="?")
    stage.set_defaults(handler=_stage)

    serve = sub.add_parser("serve", help="serve a scheduled deployment of the leaderboard flow")
    serve.add_argument("--cron", default="0 3 * * *", help="schedule (default: daily at 03:00)")
    serve.set_defaults(handler=_serve)


def _run(args: argparse.Namespace, root: Path) -> int:
    """The whole leaderboard: `dvc repro` (skips what has not changed), or one in-process flow."""
    from faceboard.catalog import Catalog

    if args.no_dvc:
        prefect_api.start_early()
        from flows.leaderboard import full_leaderboard

        prefect_api.ready()
        full_leaderboard(str(root))
    else:
        done = subprocess.run([sys.executable, "-m", "dvc", "repro"], check=False, cwd=root, env=env.with_venv_on_path())
        if done.returncode:
            return done.returncode
    cat = Catalog(root)
    print(f"leaderboard: {cat.board.leaderboard}\nper-image:   {cat.board.per_image}\n"
          f"paired:      {cat.paired_board.leaderboard}\n"
          f"report:      {cat.report}")
    return 0


def _stage(args: argparse.Namespace, root: Path) -> int:
    prefect_api.start_early()
    from flows import stages

    prefect_api.ready()
    if args.stage in PER_METHOD:
        if not args.method:
            raise ValueError(f"stage {args.stage} needs a METHOD")
        getattr(stages, f"{args.stage}_flow")(args.method, str(root))
    else:
        getattr(stages, f"{args.stage}_flow")(str(root))
    return 0


def _serve(args: argparse.Namespace, root: Path) -> int:
    """A scheduled Prefect deployment of the whole leaderboard (needs a Prefect server for schedules)."""
    from flows.leaderboard import full_leaderboard

    full_leaderboard.serve(name="scheduled-leaderboard", cron=args.cron, parameters={"root": str(root)})
    return 0
