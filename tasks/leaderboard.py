"""Stage `leaderboard`: gate and aggregate every method's per-image scores into one ranking."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
from prefect import task

from faceboard.config import Params, fingerprint
from faceboard.identity.backbones import BACKBONES
from faceboard.scoring.comparability import not_comparable
from faceboard.scoring.leaderboard import Gate, apply_gate, summarise
from tasks.score import PER_IMAGE, PROVENANCE, load_set_metrics


def gate_for(params: Params, backbone: str | None) -> Gate:
    if backbone is None:
        return Gate(None, {}, params.identity.max_failures)
    return Gate(backbone, params.thresholds(backbone), params.identity.max_failures, BACKBONES[backbone].official)


def build_leaderboard(params: Params, score_dirs: dict[str, Path], out_dir: Path) -> pd.DataFrame:
    """Read `<score_dir>/per_image.parquet` for each method; write leaderboard, gated per-image, run.json."""
    frames, provenance = [], {}
    for method, folder in score_dirs.items():
        frames.append(pd.read_parquet(folder / PER_IMAGE))
        provenance[method] = json.loads((folder / PROVENANCE).read_text())
    per_image = pd.concat(frames, ignore_index=True)
    backbones = {p["id_backbone"]["backbone"] if p["id_backbone"] else None for p in provenance.values()}
    if len(backbones) != 1:
        raise ValueError(f"methods were gated by different ID backbones {backbones}: rescore them with one")
    gate = gate_for(params, backbones.pop())
    metric_sets = {tuple(sorted(p["metrics"])) for p in provenance.values()}
    if len(metric_sets) != 1:
        raise ValueError(f"methods were scored with different metric sets {metric_sets}: rescore them")
    metrics = list(metric_sets.pop())
    reasons = {method: not_comparable(p, params.score.terms) for method, p in provenance.items()}
    gated = apply_gate(per_image, gate)
    set_metrics = {method: load_set_metrics(folder) for method, folder in score_dirs.items()}
    table = summarise(gated, metrics, gate, params.score.terms, set_metrics, not_comparable=reasons)
    out_dir.mkdir(parents=True, exist_ok=True)
    table.to_parquet(out_dir / "leaderboard.parquet", index=False)
    gated.to_parquet(out_dir / "per_image.parquet", index=False)
    run = {
        "dataset": params.dataset,
        "metrics": metrics,
        "score_terms": list(params.score.terms),
        "score_terms_used": [t for t in params.score.terms if t in metrics],
        "id_backbone": gate.backbone,
        "id_thresholds": dict(gate.thresholds),
        "max_failures": gate.max_failures,
        "comparable_to_official": bool(table["comparable_to_official"].any()),
        "not_comparable_to_official": reasons,
        "params_fingerprint": fingerprint(params.model_dump()),
        "methods": provenance,
    }
    (out_dir / "run.json").write_text(json.dumps(run, indent=1, sort_keys=True, default=str) + "\n")
    return table


leaderboard_task = task(build_leaderboard, name="leaderboard")
