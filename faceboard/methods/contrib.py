"""User methods: one folder each under `<project>/methods_contrib/`, registered by its `method.yaml`.

    methods_contrib/<package>/
        __init__.py          the restorer: a python factory or an NTIRE `model_func`
        method.yaml          its registration: name, kind, entry, description, needs_gpu, weights, ...
        test_<package>.py    its end-to-end test on the sample

Adding a method therefore never edits faceboard itself; `faceboard method new NAME --kind KIND` writes
such a folder. Listing reads only the YAML files, so it imports no plugin code (and no torch); the
project root goes on `sys.path` when a plugin's entry is imported.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Literal

import yaml
from pydantic import BaseModel, ConfigDict, ValidationError

from faceboard.methods.registry import METHODS, MethodSpec

CONTRIB_DIR = "methods_contrib"
REGISTRATION = "method.yaml"


class Registration(BaseModel):
    """The fields of `method.yaml` (those of MethodSpec; `name` defaults to the folder's name)."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    kind: Literal["python", "ntire"]
    entry: str
    description: str = ""
    needs_gpu: bool = False
    version: str = "1"
    weights: tuple[str, ...] = ()
    batch_size: int | None = None


def discover(root: Path) -> dict[str, MethodSpec]:
    """The plugins of project `root`, by method type name; raises ValueError on a bad or clashing one."""
    found: dict[str, MethodSpec] = {}
    for path in sorted((Path(root) / CONTRIB_DIR).glob(f"*/{REGISTRATION}")):
        spec = read(path)
        if spec.name in METHODS or spec.name in found:
            raise ValueError(f"{path}: method type {spec.name!r} is already registered; choose another name")
        found[spec.name] = spec
    return found


def read(path: Path) -> MethodSpec:
    """One plugin's MethodSpec from its `method.yaml`."""
    try:
        raw = Registration.model_validate(yaml.safe_load(path.read_text(encoding="utf-8")) or {})
    except (ValidationError, yaml.YAMLError) as err:
        raise ValueError(f"{path}: not a valid method registration:\n{err}") from None
    fields = raw.model_dump()
    fields["name"] = fields["name"] or path.parent.name
    return MethodSpec(**fields)


def importable(root: Path) -> None:
    """Let `methods_contrib.<package>` (and other project-local code) import: put `root` on sys.path."""
    folder = str(Path(root).resolve())
    if folder not in sys.path:
        sys.path.append(folder)
