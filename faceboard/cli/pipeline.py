"""`faceboard run`, `stage` and `serve`: the leaderboard DAG, whole, one stage, or on a schedule."""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

from faceboard import env, prefect_api, runlock

STAGES = ("fetch", "restore", "score", "leaderboard", "degrade", "paired", "paired_leaderboard", "report")
PER_METHOD = ("restore", "score", "paired")
SHARDED = ("restore", "score")  # their shards run on params.yaml's task runner
DEPLOYMENT = "scheduled"  # the served deployment: faceboard-regenerate/scheduled


def register(sub: argparse._SubParsersAction) -> None:
    run = sub.add_parser("run", help="build the whole leaderboard (dvc repro)")
    run.add_argument("--no-dvc", action="store_true", help="run the Prefect flow in-process, without DVC")
    run.set_defaults(handler=_run, lock=runlock.of_project)

    stage = sub.add_parser("stage", help="run one pipeline stage (what dvc.yaml calls)")
    stage.add_argument("stage", choices=STAGES)
    stage.add_argument("method", nargs="?")
    stage.set_defaults(handler=_stage, lock=runlock.of_project)

    regenerate = sub.add_parser("regenerate", help="what the schedule runs, now: dvc pull, repro, push, publish")
    regenerate.set_defaults(handler=_regenerate, lock=runlock.of_project)

    serve = sub.add_parser("serve", help="deploy the regeneration on params.yaml's schedule and run it when due "
                                         "(needs a Prefect server: PREFECT_API_URL)")
    serve.add_argument("--cron", help="override schedule.cron of params.yaml")
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
        from faceboard.config import load_params
        from faceboard.dvc_repo import DvcFailed, dvc

        prefect_api.start_early()  # one Prefect server for every stage process DVC starts
        if load_params(root / env.PARAMS_FILE).execution.parallel:  # the stale methods' shards side by side first
            from flows.leaderboard import shards_first

            prefect_api.ready()
            shards_first(str(root))
        prefect_api.ready()
        try:
            dvc(root, "repro", echo=True)
        except DvcFailed as err:  # its output is printed already
            return err.returncode
    cat = Catalog(root)
    print(f"leaderboard: {cat.board.leaderboard}\nper-image:   {cat.board.per_image}\n"
          f"paired:      {cat.paired_board.leaderboard}\n"
          f"report:      {cat.report}")
    return 0


def _stage(args: argparse.Namespace, root: Path) -> int:
    prefect_api.start_early()
    from flows import stages

    prefect_api.ready()
    stage_flow = getattr(stages, f"{args.stage}_flow")
    if args.stage in SHARDED:
        stage_flow = stages.configured(stage_flow, root)
    if args.stage in PER_METHOD:
        if not args.method:
            raise ValueError(f"stage {args.stage} needs a METHOD")
        stage_flow(args.method, str(root))
    else:
        stage_flow(str(root))
    return 0


def _regenerate(args: argparse.Namespace, root: Path) -> int:
    prefect_api.start_early()
    from flows.regenerate import regenerate

    prefect_api.ready()
    result = regenerate(str(root))
    print(f"stages run: {', '.join(result['stages_run']) or 'none (everything up to date)'}")
    return 0


def _serve(args: argparse.Namespace, root: Path) -> int:
    """Deploy `regenerate` with params.yaml's schedule on the Prefect server in PREFECT_API_URL and run each
    scheduled or triggered run in this process, one at a time, until stopped."""
    from prefect.schedules import Cron

    from faceboard.config import load_params
    from flows.regenerate import regenerate

    if not os.environ.get("PREFECT_API_URL"):
        print("warning: PREFECT_API_URL is not set; Prefect's temporary server runs no schedules "
              "(start one with `prefect server start`)", file=sys.stderr)
    schedule = load_params(root / env.PARAMS_FILE).schedule
    regenerate.serve(name=DEPLOYMENT, schedules=[Cron(args.cron or schedule.cron, timezone=schedule.timezone)],
                     parameters={"root": str(root)}, global_limit=1)
    return 0
