"""`faceboard fetch NAME [--from DIR]` and `faceboard datasets`: the dataset catalog of params.yaml."""

from __future__ import annotations

import argparse
import sys
import textwrap
from pathlib import Path
from typing import TYPE_CHECKING

from faceboard import runlock

if TYPE_CHECKING:
    from faceboard.catalog import Catalog
    from faceboard.config import DatasetConfig

STAND_IN = 3  # exit status when the dataset could not be downloaded and its fallback stands in


def register(sub: argparse._SubParsersAction) -> None:
    fetch = sub.add_parser("fetch", help="download (or import with --from) a catalog dataset, verified",
                           description="Download a dataset of params.yaml `datasets:` into data/datasets/NAME "
                           "(resumable, checksummed, safely extracted, with manifest.json), or import it from a "
                           f"folder or archive already on disk. Exit status {STAND_IN}: offline, the dataset's "
                           "embedded fallback was put in its place.")
    fetch.add_argument("name", metavar="NAME")
    fetch.add_argument("--from", dest="from_dir", type=Path, metavar="DIR",
                       help="import from this folder or archive instead of downloading (verified the same way)")
    fetch.set_defaults(handler=_fetch, online=lambda args: args.from_dir is None, lock=runlock.of_project)

    datasets = sub.add_parser("datasets", help="the dataset catalog: kind, edition, source, state on disk, how to get it")
    datasets.add_argument("-v", "--verbose", action="store_true", help="also how to get each hand-downloaded dataset")
    datasets.set_defaults(handler=_datasets)


def _fetch(args: argparse.Namespace, root: Path) -> int:
    from faceboard.config import load_params
    from faceboard.download import DownloadError
    from tasks.fetch import fetch_entry

    try:
        fetched = fetch_entry(load_params(root / "params.yaml"), args.name, root, args.from_dir)
    except DownloadError as err:
        print(f"faceboard: fetch {args.name} failed: {err}", file=sys.stderr)
        return 1
    if fetched.status == "stand-in":
        print(fetched.message, file=sys.stderr)
        return STAND_IN
    print(fetched.message)
    return 0


def _datasets(args: argparse.Namespace, root: Path) -> int:
    from faceboard.catalog import Catalog
    from faceboard.config import load_params

    params = load_params(root / "params.yaml")
    print(f"  {'dataset':24} {'kind':9} {'edition':10} {'source':8} {'state':12} get it")
    for name, config in params.datasets.items():
        how = f"faceboard fetch {name}"
        if config.source.type == "manual":
            how += f" --from DIR   (download by hand: {config.source.page})"
        mark = "*" if name == params.dataset else " "
        print(f"{mark} {name:24} {config.kind:9} {config.edition or '-':10} {config.source.type:8} "
              f"{_state(Catalog(root), name, config):12} {how}")
        if config.source.type == "manual" and args.verbose:
            print(textwrap.indent(textwrap.fill(config.source.note, 100), " " * 6))
    print("* the active dataset (params.yaml `dataset`); state as recorded in each manifest.json; "
          "-v: how to get the hand-downloaded ones")
    return 0


def _state(cat: Catalog, name: str, config: DatasetConfig) -> str:
    """What the manifest on disk says (files are not re-hashed here; `faceboard fetch` does that)."""
    from faceboard.datasets import manifest

    if config.source.type == "weight":
        from faceboard.weights.registry import get

        return "present" if get(config.source.weight).present() else "absent"
    record = manifest.read(cat.dataset(name))
    if record is None:
        return "absent"
    if "fallback" in record:
        return "stand-in"
    if config.source.type == "embedded":
        return "copied"
    return "verified" if record.get("verified") else "unverified"
