"""The page header: when, which dataset and edition, the rules applied, the comparability verdict with each reason
listed once, and provenance (metrics, backbones, weight hashes, versions, method configurations)."""

from __future__ import annotations

import json
from collections.abc import Iterable

from faceboard.report.sources import Sources, arrow

ALL_METHODS = "all methods"


def load(src: Sources) -> dict:
    run = src.run
    return {
        "run": run,
        "generated": src.generated,
        "dataset": run["dataset_record"],
        "metrics": [{"name": m, "arrow": arrow(m)} for m in src.metrics],
        "unavailable": [_collapse(g, len(run["methods"])) for g in
                        _grouped((m, p.get("unavailable_metrics", {})) for m, p in run["methods"].items())],
        "verdict": verdict(run),
        "provenance": provenance(run["methods"]),
    }


def verdict(run: dict) -> dict:
    """Comparable or not, and each reason once with the methods it applies to."""
    why = run["not_comparable_to_official"]
    shared = [{"reason": reason, "methods": [ALL_METHODS]} for reason in why["shared"]]
    own = _grouped((method, reason) for method, reasons in why["per_method"].items() for reason in reasons
                   if reason not in why["shared"])
    n = len(run["methods"])
    return {"comparable": run["comparable_to_official"],
            "reasons": shared + [_collapse({"reason": g["value"], "methods": g["methods"]}, n) for g in own]}


def provenance(methods: dict) -> dict:
    """Each metric's backend, options and weights, and each ID backbone and version set, once with the methods
    that used it; each method's configuration."""
    metrics = _grouped((method, {"metric": name, "backend": f"{m.get('backend')} {m.get(m.get('backend'), '')}".strip(),
                                 "options": json.dumps(m.get("options", {}), sort_keys=True),
                                 "weights": m.get("weights", {}), "unverified": m.get("weights_unverified", {})})
                       for method, p in methods.items() for name, m in p.get("metrics", {}).items())
    backbones = _grouped((m, p["id_backbone"]) for m, p in methods.items() if p.get("id_backbone"))
    versions = _grouped((m, p.get("versions", {})) for m, p in methods.items())
    configs = [{"method": m, "type": (p.get("method_config") or {}).get("type", ""),
                "options": json.dumps((p.get("method_config") or {}).get("options", {}), sort_keys=True),
                "fingerprint": p.get("config_fingerprint", "")} for m, p in methods.items()]
    n = len(methods)
    return {"metrics": [_collapse({**e["value"], "methods": e["methods"]}, n) for e in metrics],
            "backbones": [_collapse({**e["value"], "methods": e["methods"]}, n) for e in backbones],
            "versions": [_collapse({"versions": e["value"], "methods": e["methods"]}, n) for e in versions],
            "methods": configs}


def _grouped(pairs: Iterable[tuple[str, object]]) -> list[dict]:
    """Equal values of (method, value) pairs once, each with the methods that have it; empty values left out."""
    groups: dict[str, dict] = {}
    for method, value in pairs:
        groups.setdefault(json.dumps(value, sort_keys=True, default=str), {"value": value, "methods": []})[
            "methods"].append(method)
    return [g for g in groups.values() if g["value"]]


def _collapse(entry: dict, n_methods: int) -> dict:
    if n_methods > 1 and len(entry["methods"]) == n_methods:
        return {**entry, "methods": [ALL_METHODS]}
    return entry
