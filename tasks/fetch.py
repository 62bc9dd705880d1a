"""Stage `fetch` and `faceboard fetch`: a catalog dataset under data/datasets/<name>, verified, with a
content manifest (`manifest.json`: every file's size and sha256, where each part came from and what
verified it).

The dataset is assembled in `<name>.partial` and renamed into place only once every part checked
out: a folder named after the dataset is always complete, a failed fetch leaves nothing that looks
like it. An up-to-date dataset (same catalog entry, files as in its manifest) is not fetched again.
A benchmark (`lq`) dataset with `landmarks: null` gets them detected on its LQ images here
(MTCNN, offline), with the detector and the images without a face recorded in the manifest.
When the download cannot reach its server, the entry's `fallback` (an embedded dataset) is built
in its place, marked as a stand-in in the manifest.
"""

from __future__ import annotations

import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from prefect import task

from faceboard.catalog import Catalog
from faceboard.config import ArchiveLimits, DatasetConfig, Params, fingerprint
from faceboard.datasets import DatasetError, manifest
from faceboard.datasets.sources import gather_local, gather_remote
from faceboard.download import Unreachable
from faceboard.files import sha256_file
from faceboard.landmarks import load_landmarks
from faceboard.layout import list_images


@dataclass(frozen=True)
class Fetched:
    path: Path
    status: str  # "fetched", "up to date", "stand-in", "weight"
    message: str
    manifest: dict[str, Any] | None = None


def fetch_entry(params: Params, name: str, root: Path, from_dir: Path | None = None) -> Fetched:
    """Fetch catalog entry `name` into its catalog folder, with its declared fallback."""
    if name not in params.datasets:
        raise KeyError(f"no dataset {name!r} in params.yaml; the catalog has: {', '.join(params.datasets)}")
    config = params.datasets[name]
    fallback = (config.fallback, params.datasets[config.fallback]) if config.fallback else None
    return fetch_dataset(name, config, Path(root), Catalog(Path(root)).dataset(name), from_dir, fallback,
                         params.security.archive)


def fetch_dataset(name: str, config: DatasetConfig, root: Path, dest: Path, from_dir: Path | None = None,
                  fallback: tuple[str, DatasetConfig] | None = None, limits: ArchiveLimits | None = None) -> Fetched:
    """Fetch `name` into `dest` (from the folder or archive `from_dir` when given; archives extracted within
    `limits`, None: params.yaml's defaults). When its server cannot be reached, build `fallback` (name, config
    of an embedded dataset) there as a stand-in."""
    if config.source.type == "weight":
        return _fetch_weight(name, config, from_dir)
    limits = limits or ArchiveLimits()
    current = manifest.read(dest)
    if from_dir is None and _up_to_date(dest, current, config):
        return Fetched(dest, "up to date", f"{name}: {dest} is complete and matches its manifest", current)
    try:
        record = _build(name, config, root, dest, from_dir, limits)
    except Unreachable as err:
        if fallback is None:
            raise
        stand_in, stand_in_config = fallback
        if stand_in_config.source.type != "embedded" or not set(stand_in_config.subsets) <= set(config.subsets):
            raise DatasetError(f"fallback {stand_in!r} cannot stand in for {name!r}: it must be an embedded "
                               "dataset with subsets of the same names") from err
        record = _build(stand_in, stand_in_config, root, dest, None, limits,
                        {"fallback": {"dataset": stand_in, "instead_of": name, "reason": str(err)}})
        images = sum(part.get("images", 0) for part in record["parts"])
        return Fetched(dest, "stand-in", (
            f"offline: {name} could not be downloaded:\n{err}\n{dest} now holds the embedded sample {stand_in!r} "
            f"({images} images) as a stand-in, recorded as `fallback` in its {manifest.MANIFEST}. Run "
            f"`faceboard fetch {name}` when online, or import a copy with `faceboard fetch {name} --from DIR`."),
            record)
    return Fetched(dest, "fetched", _summary(name, dest, record), record)


def _build(name: str, config: DatasetConfig, root: Path, dest: Path, from_dir: Path | None, limits: ArchiveLimits,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """Assemble the dataset in `<dest>.partial`, check it, write its manifest, rename it to `dest`."""
    source = config.source
    if source.type == "manual" and from_dir is None:
        raise FileNotFoundError(f"{name}: no direct download; get it from {source.page}, then run "
                                f"`faceboard fetch {name} --from DIR` (DIR: the folder or the archive)")
    dest.parent.mkdir(parents=True, exist_ok=True)
    staging = dest.with_name(dest.name + ".partial")
    for leftover in (staging, *dest.parent.glob(f".{dest.name}.work-*")):  # from a killed run
        shutil.rmtree(leftover, ignore_errors=True)
    staging.mkdir()
    try:
        with tempfile.TemporaryDirectory(dir=dest.parent, prefix=f".{dest.name}.work-") as tmp:
            work = Path(tmp)
            if from_dir is not None:
                parts = gather_local(config, Path(from_dir), root, staging, work, f"--from {from_dir}", limits)
            elif source.type == "embedded":
                parts = gather_local(config, root / source.path, root, staging, work, f"embedded {source.path}",
                                     limits)
            else:
                parts = gather_remote(config, root, staging, work, Catalog(root).downloads(name), limits)
        record = {"dataset": name, "kind": config.kind, "fingerprint": fingerprint(config.model_dump(mode="json")),
                  "source": {"type": source.type, "page": source.page}, "parts": parts,
                  "verified": all(part["verified"] for part in parts), **(extra or {})}
        if config.kind == "lq":
            record["landmarks"] = _check_benchmark(name, config, staging)
        written = manifest.write(staging, record)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise
    _publish(staging, dest)
    return written


def _check_benchmark(name: str, config: DatasetConfig, staging: Path) -> dict[str, Any]:
    """Subsets as declared; landmarks from the CSV (parsed), or detected when none is published."""
    if not (staging / "lq").is_dir():
        raise DatasetError(f"dataset {name!r}: no lq/ folder")
    lq = list_images(staging / "lq")
    found = {ref.subset for ref in lq}
    if unexpected := sorted(found - set(config.subsets)):
        raise DatasetError(f"dataset {name!r}: subsets {unexpected} are not declared in params.yaml")
    if empty := sorted(set(config.subsets) - found):
        raise DatasetError(f"dataset {name!r}: declared subsets {empty} have no images")
    csv = staging / "landmarks.csv"
    if csv.is_file():
        points = load_landmarks(csv)
        return {"source": "csv", "sha256": sha256_file(csv),
                "without": [f"{ref.subset}/{ref.name}" for ref in lq if (ref.subset, ref.name) not in points]}
    if config.landmarks is not None:
        raise DatasetError(f"dataset {name!r}: landmarks.csv is missing")
    from tasks.landmarks import detect_folder

    detected = detect_folder(lq, csv)
    return {"source": "detected", "detector": detected.record["detector"],
            "failures": {f"{subset}/{image}": why for (subset, image), why in detected.failures.items()}}


def _up_to_date(dest: Path, current: dict[str, Any] | None, config: DatasetConfig) -> bool:
    return (current is not None and "fallback" not in current
            and current.get("fingerprint") == fingerprint(config.model_dump(mode="json"))
            and not manifest.problems(dest, current))


def _publish(staging: Path, dest: Path) -> None:
    """Swap the finished dataset in: the old one (if any) goes only after the new one is in place."""
    old = dest.with_name(dest.name + ".old")
    shutil.rmtree(old, ignore_errors=True)
    if dest.exists():
        dest.rename(old)
    staging.rename(dest)
    shutil.rmtree(old, ignore_errors=True)


def _summary(name: str, dest: Path, record: dict[str, Any]) -> str:
    lines = [f"{name}: {len(record['files'])} files in {dest}"]
    for part in record["parts"]:
        how = "; ".join(part["checks"]) if part["verified"] else "UNVERIFIED (no published sha256)"
        if part["origin"].startswith("embedded"):
            how = "from the repository (no published sha256)"
        lines.append(f"  {part['into']}: {how}")
    landmarks = record.get("landmarks", {})
    if landmarks.get("source") == "detected":
        lines.append(f"  landmarks.csv: detected with MTCNN; no face found in {len(landmarks['failures'])} images")
    return "\n".join(lines)


def _fetch_weight(name: str, config: DatasetConfig, from_dir: Path | None) -> Fetched:
    """A `weight` source: the weight registry's file, downloaded or imported where its users read it."""
    from faceboard.weights import manage, registry

    weight = registry.get(config.source.weight)
    if from_dir is not None:
        if weight.name not in {placed.name for placed, _ in manage.import_dir(Path(from_dir))}:
            raise FileNotFoundError(f"{name}: no {weight.file_name} in {from_dir}")
    else:
        manage.fetch(weight.name)
    trust = weight.trust(sha256_file(weight.path))
    return Fetched(weight.path, "weight", f"{name}: {weight.path} ({trust.why or trust.state})")


fetch_task = task(fetch_entry, name="fetch-dataset")
