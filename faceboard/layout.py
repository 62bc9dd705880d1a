"""Submission folder layout: `<Subset>/<name>.<ext>`, or flat `<name>.<ext>` (subset `all`)."""

from __future__ import annotations

import hashlib
from collections.abc import Hashable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from faceboard.files import sha256_file
from faceboard.imageio import is_image_file

FLAT_SUBSET = "all"
T = TypeVar("T")


@dataclass(frozen=True)
class ImageRef:
    """One image: its subset folder (or `all`), its file stem, and its path."""

    subset: str
    name: str
    path: Path


@dataclass
class Scan:
    """What a folder holds: images sorted by (subset, name), skipped files, ambiguous keys."""

    images: list[ImageRef] = field(default_factory=list)
    ignored: list[Path] = field(default_factory=list)  # non-image files, or entries nested too deep
    clashes: dict[tuple[str, str], list[Path]] = field(default_factory=dict)  # (subset, name) -> its files

    @property
    def duplicates(self) -> list[str]:
        """Each image found under several extensions, as "subset/name", sorted."""
        return [f"{subset}/{name}" for subset, name in self.clashes]

    def clash_errors(self, expected: list[ImageRef] | None = None) -> dict[tuple[str, str], str]:
        """{(subset, name): why none of the image's several files is used}, for each `expected` image (a flat
        scan's names stand for the expected image of that name, as in `match`), or for each clash."""
        keys = list(self.clashes) if expected is None else [(ref.subset, ref.name) for ref in expected]
        errors = {}
        for subset, name in keys:
            paths = self.clashes.get((subset, name)) or self.clashes.get((FLAT_SUBSET, name))
            if paths:
                errors[(subset, name)] = (f"same image under several extensions: {', '.join(map(str, paths))}; "
                                          "keep exactly one")
        return errors


@dataclass
class Match:
    """Expected images paired with submitted ones, plus what is missing and what is extra."""

    pairs: list[tuple[ImageRef, ImageRef]]
    missing: list[ImageRef]
    extra: list[ImageRef]


def scan(root: Path) -> Scan:
    """Scan a submission folder; hidden files and folders are skipped silently.

    Images with the same subset and name but different extensions are reported in
    `duplicates` and left out of `images`. Raises ValueError when images sit both at the
    root and in subfolders.
    """
    root = Path(root)
    if not root.is_dir():
        raise NotADirectoryError(f"{root}: not a folder")
    found: dict[tuple[str, str], list[Path]] = {}
    ignored: list[Path] = []
    for path in _visible(root):
        if path.is_dir():
            for inner in _visible(path):
                _classify(inner, path.name, inner.is_file(), found, ignored)
        else:
            _classify(path, FLAT_SUBSET, path.is_file(), found, ignored)
    subsets = {subset for subset, _ in found}
    root_files = [p for key, paths in found.items() if key[0] == FLAT_SUBSET for p in paths]
    if root_files and subsets - {FLAT_SUBSET}:
        raise ValueError(
            f"{root}: mixed layout: images both at the top level (e.g. {root_files[0].name!r}) "
            f"and in subset folders {sorted(subsets - {FLAT_SUBSET})}; use one layout"
        )
    images = [ImageRef(s, n, paths[0]) for (s, n), paths in sorted(found.items()) if len(paths) == 1]
    clashes = {key: paths for key, paths in sorted(found.items()) if len(paths) > 1}
    return Scan(images=images, ignored=sorted(ignored), clashes=clashes)


def list_images(root: Path) -> list[ImageRef]:
    """The images of `root`, sorted by (subset, name); raises ValueError on duplicates or mixed layout."""
    result = scan(root)
    if result.duplicates:
        raise ValueError(f"{root}: same image under several extensions: {', '.join(result.duplicates)}; "
                         "keep exactly one file of each")
    return result.images


def match(expected: list[ImageRef], submitted: list[ImageRef]) -> Match:
    """Pair images by (subset, name); a flat submission against a subset layout pairs by name.

    Raises ValueError when a key is not unique on either side (for a flat submission: a name
    that occurs in several expected subsets).
    """
    by_name = _is_flat(submitted) and not _is_flat(expected)
    wanted = _index(expected, by_name, "expected")
    given = _index(submitted, by_name, "submitted")
    pairs = [(ref, given[k]) for k, ref in wanted.items() if k in given]
    return Match(
        pairs=sorted(pairs, key=lambda pair: _order(pair[0])),
        missing=sorted((ref for k, ref in wanted.items() if k not in given), key=_order),
        extra=sorted((ref for k, ref in given.items() if k not in wanted), key=_order),
    )


def _visible(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if not p.name.startswith("."))


def _classify(
    path: Path, subset: str, is_file: bool, found: dict[tuple[str, str], list[Path]], ignored: list[Path]
) -> None:
    if is_file and is_image_file(path):
        found.setdefault((subset, path.stem), []).append(path)
    else:
        ignored.append(path)


def _is_flat(refs: list[ImageRef]) -> bool:
    return bool(refs) and all(r.subset == FLAT_SUBSET for r in refs)


def _order(ref: ImageRef) -> tuple[str, str]:
    return ref.subset, ref.name


def _index(refs: list[ImageRef], by_name: bool, side: str) -> dict[Hashable, ImageRef]:
    index: dict[Hashable, ImageRef] = {}
    for ref in refs:
        key: Hashable = ref.name if by_name else _order(ref)
        if key in index:
            raise ValueError(
                f"cannot pair {side} images uniquely by {'name' if by_name else 'subset/name'}: "
                f"{ref.name!r} is both {index[key].path} and {ref.path}"
            )
        index[key] = ref
    return index


def by_subset(items: Iterable[T]) -> dict[str, list[T]]:
    """Group anything with a `.subset` into shards, keeping order."""
    shards: dict[str, list[T]] = {}
    for item in items:
        shards.setdefault(item.subset, []).append(item)
    return shards


def content_digest(refs: Iterable[ImageRef]) -> str:
    """sha256 of a `sha256sum`-style listing of the images (`<digest>  <subset>/<file>`, sorted): one value
    that changes when any image's bytes, name or subset does."""
    lines = sorted(f"{sha256_file(ref.path)}  {ref.subset}/{ref.path.name}\n" for ref in refs)
    return hashlib.sha256("".join(lines).encode()).hexdigest()
