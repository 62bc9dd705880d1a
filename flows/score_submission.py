"""Score a folder of restored images a team submitted, against an LQ folder when one is given."""

from __future__ import annotations

import json
from pathlib import Path

from prefect import flow
from prefect.task_runners import ThreadPoolTaskRunner

from faceboard.config import Params
from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images, scan
from faceboard.scoring.leaderboard import apply_gate, summarise
from faceboard.scoring.per_image import Scorer
from tasks.leaderboard import gate_for
from flows.stages import score_shards
from tasks.score import items_for, items_without_reference, write_scores


@flow(name="score-submission", task_runner=ThreadPoolTaskRunner(max_workers=1))
def score_submission(
    submission: str, out: str, params: Params, metrics: dict[str, dict], device: str, cache: str,
    lq: str | None = None, landmarks: str | None = None, backbone: str | None = None,
) -> dict:
    """Write `out/per_image.parquet` and `out/summary.parquet`; return a short report."""
    folder = Path(submission)
    method = folder.name
    found = scan(folder)
    report: dict = {"submission": str(folder), "images": len(found.images),
                    "ignored_files": [str(p) for p in found.ignored], "duplicates": found.duplicates}
    if lq is not None:
        refs = list_images(Path(lq))
        items, extra = items_for(refs, found.images, load_landmarks(landmarks))
        report["missing"] = [f"{i.subset}/{i.name}" for i in items if i.error == "no output"]
        report["extra"] = [f"{r.subset}/{r.name}" for r in extra]
    else:
        items = items_without_reference(found.images)
        backbone = None
    scorer = Scorer(metrics, backbone, device, Path(cache))
    rows = score_shards(scorer, method, items, params.batch_size)
    out_dir = Path(out)
    per_image = write_scores(out_dir, rows, scorer, {"submission": report})
    gate = gate_for(params, backbone)
    gated = apply_gate(per_image, gate)
    gated.to_parquet(out_dir / "per_image.parquet", index=False)
    summary = summarise(gated, list(scorer.metrics), gate, params.score.terms)
    summary.to_parquet(out_dir / "summary.parquet", index=False)
    report.update(id_gate=backbone or "not run (no --lq given)", unavailable_metrics=scorer.unavailable,
                  failed_images=int((gated["status"] == "failed").sum()))
    (out_dir / "report.json").write_text(json.dumps(report, indent=1) + "\n")
    return report
