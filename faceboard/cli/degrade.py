"""`faceboard degrade`: synthetic LQ faces from a folder of HQ faces, reproducible to the byte."""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any

import yaml

from faceboard import env


def register(sub: argparse._SubParsersAction) -> None:
    degrade = sub.add_parser(
        "degrade", help="degrade HQ faces into LQ ones (presets gfpgan, codeformer, realesrgan)",
        description="Defaults (preset, overrides, seed, workers) come from params.yaml's `degradation` and "
                    "`seed` inside a project. The same settings give the same LQ bytes in any order or process.")
    degrade.add_argument("hq", nargs="?", help="folder of square HQ faces, <Subset>/<name>.<ext> or flat")
    degrade.add_argument("--out", help="output folder: lq/<Subset>/<name>.png and degradation.parquet")
    degrade.add_argument("--preset", help="gfpgan, codeformer or realesrgan")
    degrade.add_argument("--set", action="append", default=[], metavar="KEY=VALUE", dest="overrides",
                         help="override a range, e.g. jpeg_quality=[70,90] or kernel.sigma=[1,5] (repeatable)")
    degrade.add_argument("--seed", type=int, help="global seed (each image's generator derives from it)")
    degrade.add_argument("--workers", type=int, help="worker processes")
    degrade.add_argument("--size", type=int, default=512, help="LQ size; other square HQ sizes are resized first")
    degrade.add_argument("--ranges", action="store_true", help="print the preset's resolved ranges and exit")
    degrade.set_defaults(handler=_degrade, needs_root=False)


def _degrade(args: argparse.Namespace, root: Path | None) -> int:
    from faceboard.degrade.run import Setting

    preset, overrides, seed, workers = _defaults(root)
    preset = args.preset or preset
    merged = overrides.get(preset, {})
    for item in args.overrides:
        merged = _merge_dotted(merged, item)
    setting = Setting.of(preset, merged, seed if args.seed is None else args.seed, args.size)
    if args.ranges:
        print(yaml.safe_dump({preset: setting.ranges.model_dump(mode="json")}, sort_keys=False), end="")
        return 0
    if not args.hq or not args.out:
        raise ValueError("give an HQ folder and --out (or --ranges)")
    if not Path(args.hq).is_dir():
        raise NotADirectoryError(f"{args.hq}: no such folder")
    from tasks.degrade import LQ, PARAMETERS, degrade_folder

    out = Path(args.out)
    table = degrade_folder(Path(args.hq), out, setting, args.workers or workers)
    print(f"degraded {len(table)} images with preset {preset} (seed {setting.seed}) -> {out / LQ}\n"
          f"parameters: {out / PARAMETERS}")
    return 0


def _defaults(root: Path | None) -> tuple[str, dict[str, dict[str, Any]], int, int]:
    """(preset, overrides per preset, seed, workers) from params.yaml, or the built-in defaults outside a project."""
    from faceboard.config import DegradationConfig, load_params

    if root is None:
        config, seed = DegradationConfig(), 0
    else:
        params = load_params(root / env.PARAMS_FILE)
        config, seed = params.degradation, params.seed
    return config.preset, config.overrides, seed, config.workers


def _merge_dotted(base: dict[str, Any], item: str) -> dict[str, Any]:
    """`base` with `a.b=VALUE` set (VALUE read as YAML: numbers, [low, high] lists, mappings)."""
    key, sep, text = item.partition("=")
    if not sep or not key:
        raise ValueError(f"--set {item!r}: expected KEY=VALUE")
    *parents, leaf = key.split(".")
    out = dict(base)
    node = out
    for part in parents:
        node[part] = dict(node.get(part) or {})
        node = node[part]
    node[leaf] = yaml.safe_load(text)
    return out
