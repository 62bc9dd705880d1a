"""The one leaderboard builder, for the DAG's `leaderboard` stage and for `faceboard score`.

It reads every method's scores, refuses to combine scores made differently (dataset, protocol, ID
backbone, metric set), gates identity with the limit scaled to the dataset, charges failed images,
aggregates, ranks, and judges comparability with the official protocol.
"""

from __future__ import annotations

import json
import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import pandas as pd

from faceboard.catalog import BoardFiles, Catalog, ScoreFiles
from faceboard.config import Params, fingerprint
from faceboard.env import find_root
from faceboard.files import write_json_atomic, write_parquet_atomic
from faceboard.identity import calibration
from faceboard.identity.backbones import BACKBONES
from faceboard.scoring import bootstrap
from faceboard.scoring.charge import charge_failed
from faceboard.scoring.comparability import judge
from faceboard.scoring.leaderboard import Gate, apply_gate, summarise

#: What every method's scores must share to stand on one board (provenance field -> how it is read).
AGREEMENT = {
    "dataset": lambda p: (p.get("dataset") or {}).get("name"),
    "LQ content": lambda p: (p.get("dataset") or {}).get("lq_sha256"),
    "landmarks": lambda p: ((p.get("dataset") or {}).get("landmarks") or {}).get("sha256"),
    "protocol": lambda p: (p.get("dataset") or {}).get("protocol"),
    "ID backbone": lambda p: (p.get("id_backbone") or {}).get("backbone"),
    "metric set": lambda p: tuple(sorted(p.get("metrics", {}))),
}


@dataclass(frozen=True)
class Board:
    table: pd.DataFrame  # leaderboard rows
    per_image: pd.DataFrame  # gated, charged per-image rows of every method
    run: dict[str, Any]  # the rules applied and where every number came from
    pairwise: pd.DataFrame  # per ordered pair of ranked methods: share of resamples in which A beats B


def build(params: Params, scores: Mapping[str, ScoreFiles]) -> Board:
    """The leaderboard of the methods whose scores are in `scores` ({method: files})."""
    per_image = pd.concat([pd.read_parquet(files.per_image) for files in scores.values()], ignore_index=True)
    provenance = {method: json.loads(files.provenance.read_text()) for method, files in scores.items()}
    agreed = _agreement(provenance)
    backbone, metrics, protocol = agreed["ID backbone"], list(agreed["metric set"]), params.edition
    if agreed["protocol"] != protocol.name:
        raise ValueError(f"scores were made for protocol {agreed['protocol']}, the run follows {protocol.name}: "
                         "rescore them")
    dataset = next(iter(provenance.values()))["dataset"]
    limit = params.failure_limit(dataset["images"])
    terms = params.score_terms
    gate = (Gate(backbone, params.thresholds(backbone), limit, BACKBONES[backbone].official) if backbone
            else Gate(None, {}, limit))
    policy = params.score.failed_images
    per_image_metrics = [m for m in metrics if m in per_image]
    charged = charge_failed(apply_gate(per_image, gate), per_image_metrics, policy)
    set_metrics = {method: _set_metrics(files, policy) for method, files in scores.items()}
    verdict = judge(provenance, params, backbone, protocol)
    table = summarise(charged, metrics, gate, terms, set_metrics, not_comparable=verdict["by_method"])
    table, pairwise = bootstrap.confidence(charged, table, metrics, terms, params.bootstrap, params.seed)
    table.insert(2, "protocol", protocol.name)
    run = {
        "dataset": dataset["name"],
        "dataset_record": dataset,
        "protocol": protocol.name,
        "rules": {
            "id_backbone": backbone,
            "id_thresholds": dict(gate.thresholds),
            "max_failures": params.failure_rule[0],
            "failures_per": params.failure_rule[1],
            "n_images": dataset["images"],
            "id_failure_limit": limit,
            "failed_images": policy,
            "score_terms": {name: term.model_dump(exclude_none=True) for name, term in terms.items()},
        },
        "metrics": metrics,
        "score_terms_used": [t for t in terms if t in metrics],
        "comparable_to_official": verdict["comparable"],
        "not_comparable_to_official": {"shared": verdict["shared"], "per_method": verdict["per_method"]},
        "params_fingerprint": fingerprint(params.results_config()),
        "bootstrap": bootstrap.record(params.bootstrap, params.seed),
        "id_gate_calibration": _gate_calibration(backbone),
        "methods": provenance,
    }
    return Board(table, charged, run, pairwise)


def write(board: Board, out: BoardFiles) -> None:
    """The leaderboard, the per-image rows and run.json, each written atomically."""
    out.folder.mkdir(parents=True, exist_ok=True)
    for frame, path in ((board.table, out.leaderboard), (board.per_image, out.per_image), (board.pairwise, out.pairwise)):
        write_parquet_atomic(path, frame)
    write_json_atomic(out.run_info, board.run)


def _agreement(provenance: Mapping[str, Mapping]) -> dict[str, Any]:
    """The shared value of each AGREEMENT field; ValueError naming the field and the methods that differ."""
    agreed = {}
    for field, read in AGREEMENT.items():
        values: dict[Any, list[str]] = {}
        for method, record in provenance.items():
            values.setdefault(read(record), []).append(method)
        if len(values) != 1:
            detail = "; ".join(f"{', '.join(methods)}: {value}" for value, methods in values.items())
            raise ValueError(f"scores disagree on {field} ({detail}): rescore them with the same settings")
        agreed[field] = next(iter(values))
    return agreed


def _gate_calibration(backbone: str | None) -> dict | None:
    """How a non-official backbone's thresholds were chosen, and their measured error rates (None for the
    official gate, or when no calibration table is committed)."""
    if backbone is None or BACKBONES[backbone].official:
        return None
    path = Catalog(find_root()).gate_calibration(backbone)
    if not path.is_file():
        return None
    return {"table": path.relative_to(find_root()).as_posix(), "rule": calibration.__doc__.split("\n\n")[1],
            "subsets": calibration.error_rates(pd.read_csv(path))}


def _set_metrics(files: ScoreFiles, policy: str) -> dict[str, float]:
    """{set metric: value} under the failed-image policy (NaN where it could not be computed)."""
    entries = json.loads(files.set_metrics.read_text()) if files.set_metrics.is_file() else {}
    values = {}
    for name, entry in entries.items():
        chosen = entry["worst"] if policy == "worst" else entry
        values[name] = math.nan if chosen["value"] is None else chosen["value"]
    return values
