"""The leaderboard page: one self-contained HTML file (styles, script, plots and thumbnails inline; it requests
nothing), built from a board's tables by the sections of faceboard.report.sections, in their order."""

from __future__ import annotations

import os
import time
from importlib.resources import files
from pathlib import Path

from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup

from faceboard.catalog import BoardFiles
from faceboard.files import write_bytes_atomic
from faceboard.report.sections import SECTIONS
from faceboard.report.sources import Sources, missing


def build(board: BoardFiles, paired: BoardFiles | None = None) -> str:
    """The page of `board` (with the paired track's `paired` board where it has run)."""
    src = Sources(board, paired, generated=generated_at())
    env = environment()
    parts = []
    for section in SECTIONS:
        data = section.load(src)
        if data is not None:
            parts.append(Markup(env.get_template(section.template).render({**data, "name": section.name})))
    return env.get_template("page.html").render(title=f"faceboard leaderboard: {src.run['dataset']}", sections=parts,
                                               style=_static("report.css"), script=_static("report.js"))


def write(board: BoardFiles, out: Path, paired: BoardFiles | None = None) -> Path:
    """Build the page and write it to `out` atomically."""
    write_bytes_atomic(out, build(board, paired).encode("utf-8"))
    return out


def environment() -> Environment:
    env = Environment(loader=PackageLoader("faceboard.report"), autoescape=select_autoescape(["html", "svg"]),
                      trim_blocks=True, lstrip_blocks=True)
    env.filters["num"] = num
    return env


def generated_at() -> str:
    """Now in UTC, or `SOURCE_DATE_EPOCH` (the reproducible-builds convention) when set."""
    epoch = os.environ.get("SOURCE_DATE_EPOCH")
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(int(epoch) if epoch else None))


def num(value: object, digits: int = 4) -> str:
    if missing(value):
        return "–"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def _static(name: str) -> Markup:
    """A file of static/, inlined as it is (ours, never user data)."""
    return Markup(files("faceboard.report").joinpath("static", name).read_text(encoding="utf-8"))
