"""Score a folder of restored images a team submitted, against an LQ folder when one is given."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from faceboard.catalog import BoardFiles
from faceboard.config import Params
from faceboard.datasets.official import describe
from faceboard.env import find_root
from faceboard.files import write_bytes_atomic
from faceboard.layout import list_images, scan
from faceboard.report import page, thumbnails
from faceboard.scoring import build
from faceboard.scoring.per_image import Item, ScorerSpec, loaded
from flows.stages import rows_of, submit_score_shards
from tasks.landmarks import landmarks_for, with_failures
from tasks.score import items_for, items_without_reference, write_scores


@flow(name="score-submission", task_runner=ThreadPoolTaskRunner(max_workers=1))
def score_submission(submission: str, out: str, params: Params, spec: ScorerSpec, lq: str | None = None,
                     landmarks: str | None = None) -> dict:
    """Score the submission and build its leaderboard and page in `out` with the DAG's builders; return a short
    report.

    The scorer is `spec`'s, loaded in this process (`faceboard score` loads it while Prefect's server
    starts) and used by every shard; its ID backbone, if any, gates the outputs against the `lq` folder.

    With `lq` but no `landmarks` CSV, landmarks are detected on the LQ images and written to
    `out/landmarks_detected.csv`; an LQ image without a detectable face is a failed row.
    """
    folder = Path(submission)
    method = folder.name
    found = scan(folder)
    report: dict = {"submission": str(folder), "images": len(found.images),
                    "ignored_files": [str(p) for p in found.ignored], "duplicates": found.duplicates}
    board = BoardFiles(Path(out))
    refs = []
    lq_points = None
    if lq is not None:
        refs = list_images(Path(lq))
        if not refs:
            raise ValueError(f"{lq}: no LQ images")
        lq_points = landmarks_for(refs, landmarks, board.folder)
        report["landmarks"] = lq_points.record
        items, extra = items_for(refs, found.images, lq_points.points, found.clash_errors(refs))
        items = with_failures(items, lq_points.failures)
        report["missing"] = [f"{i.subset}/{i.name}" for i in items if i.error == "no output"]
        report["extra"] = [f"{r.subset}/{r.name}" for r in extra]
    else:
        items = items_without_reference(found.images) + [
            Item(subset, name, None, error=why) for (subset, name), why in found.clash_errors().items()]
    scorer = loaded(spec)
    rows = rows_of(submit_score_shards(spec, method, items, params.batch_size, params.execution.gpu_slots))
    dataset = describe(str(lq) if lq else "(no LQ set)", refs, lq_points.record if lq_points else None, params,
                       find_root(), params.edition)
    with scorer.timings("write tables"):
        write_scores(board.scores(method), rows, scorer, {"dataset": dataset, "method": method, "submission": report})
        built = build.build(params, {method: board.scores(method)})
        build.write(built, board)
    with scorer.timings("page"):
        gallery = thumbnails.of_board(built.per_image, Path(lq) if lq else None, {method: folder}, params.report)
        thumbnails.write(gallery, board.thumbnails)
        page.write(board, board.page)
    gate = scorer.backbone.spec.name if scorer.backbone is not None and lq is not None else None
    report.update(id_gate=gate or "not run (no --lq given)", unavailable_metrics=scorer.unavailable,
                  failed_images=int((built.per_image["status"] == "failed").sum()),
                  comparable_to_official=built.run["comparable_to_official"],
                  not_comparable_to_official=built.run["not_comparable_to_official"]["shared"])
    report["timings"] = scorer.timings.record()
    write_bytes_atomic(board.submission_report, (json.dumps(report, indent=1) + "\n").encode())
    return report
