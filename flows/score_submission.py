"""Score a folder of restored images a team submitted, against an LQ folder when one is given."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from faceboard.config import Params
from faceboard.layout import list_images, scan
from faceboard.scoring.comparability import not_comparable
from faceboard.scoring.leaderboard import apply_gate, summarise
from faceboard.scoring.per_image import Scorer
from flows.stages import score_shards
from tasks.landmarks import landmarks_for, with_failures
from tasks.leaderboard import gate_for
from tasks.score import (
    items_for,
    items_without_reference,
    load_set_metrics,
    write_scores,
)


@flow(name="score-submission", task_runner=ThreadPoolTaskRunner(max_workers=1))
def score_submission(
    submission: str, out: str, params: Params, metrics: dict[str, dict], device: str, cache: str,
    lq: str | None = None, landmarks: str | None = None, backbone: str | None = None,
) -> dict:
    """Write `out/per_image.parquet` and `out/summary.parquet`; return a short report.

    With `lq` but no `landmarks` CSV, landmarks are detected on the LQ images and written to
    `out/landmarks_detected.csv`; an LQ image without a detectable face is a failed row.
    """
    folder = Path(submission)
    method = folder.name
    found = scan(folder)
    report: dict = {"submission": str(folder), "images": len(found.images),
                    "ignored_files": [str(p) for p in found.ignored], "duplicates": found.duplicates}
    out_dir = Path(out)
    if lq is not None:
        refs = list_images(Path(lq))
        if not refs:
            raise ValueError(f"{lq}: no LQ images")
        lq_points = landmarks_for(refs, landmarks, out_dir)
        report["landmarks"] = lq_points.record
        items, extra = items_for(refs, found.images, lq_points.points)
        items = with_failures(items, lq_points.failures)
        report["missing"] = [f"{i.subset}/{i.name}" for i in items if i.error == "no output"]
        report["extra"] = [f"{r.subset}/{r.name}" for r in extra]
    else:
        items = items_without_reference(found.images)
        backbone = None
    scorer = Scorer(metrics, backbone, device, Path(cache))
    rows = score_shards(scorer, method, items, params.batch_size)
    per_image = write_scores(out_dir, rows, scorer, {"submission": report})
    gate = gate_for(params, backbone)
    gated = apply_gate(per_image, gate)
    gated.to_parquet(out_dir / "per_image.parquet", index=False)
    reasons = not_comparable(scorer.provenance(), params.score.terms)
    summary = summarise(gated, list(scorer.metrics), gate, params.score.terms,
                        set_metrics={method: load_set_metrics(out_dir)}, not_comparable={method: reasons})
    summary.to_parquet(out_dir / "summary.parquet", index=False)
    report.update(id_gate=backbone or "not run (no --lq given)", unavailable_metrics=scorer.unavailable,
                  failed_images=int((gated["status"] == "failed").sum()), not_comparable_to_official=reasons)
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
