"""Stage `fetch`: materialise the active dataset under data/datasets/<name> with a manifest."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

from prefect import task

from faceboard.config import DatasetConfig
from faceboard.files import sha256_file
from faceboard.layout import list_images


def fetch_dataset(name: str, config: DatasetConfig, root: Path, dest: Path) -> Path:
    """Copy an embedded dataset into `dest`, check its layout, and write `manifest.json`."""
    if config.source.type != "embedded":
        raise ValueError(f"dataset {name!r}: source type {config.source.type!r} is not supported yet")
    src = root / config.source.path
    if not (src / config.lq).is_dir():
        raise FileNotFoundError(f"dataset {name!r}: no LQ folder at {src / config.lq}")
    tmp = dest.with_name(dest.name + ".partial")
    shutil.rmtree(tmp, ignore_errors=True)
    shutil.copytree(src / config.lq, tmp / "lq")
    if config.landmarks:
        shutil.copyfile(src / config.landmarks, tmp / "landmarks.csv")
    images = list_images(tmp / "lq")
    unexpected = sorted({ref.subset for ref in images} - set(config.subsets))
    if unexpected:
        raise ValueError(f"dataset {name!r}: subsets {unexpected} are not declared in params.yaml")
    files = sorted(p for p in tmp.rglob("*") if p.is_file())
    manifest = {
        "dataset": name,
        "source": config.source.model_dump(exclude_none=True),
        "files": [
            {"file": p.relative_to(tmp).as_posix(), "size": p.stat().st_size, "sha256": sha256_file(p)}
            for p in files
        ],
    }
    (tmp / "manifest.json").write_text(json.dumps(manifest, indent=1) + "\n")
    shutil.rmtree(dest, ignore_errors=True)
    tmp.rename(dest)  # a dataset appears complete or not at all
    return dest


fetch_task = task(fetch_dataset, name="fetch-dataset")
