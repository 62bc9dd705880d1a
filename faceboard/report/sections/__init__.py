"""The page's sections, in page order: each a name (its anchor), a loader that turns the Sources into the
template's data (None: the section is left out), and its template under templates/sections/.
Adding a section is one entry here, its loader module and its template."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from faceboard.report.sections import (
    gallery,
    gate,
    header,
    paired,
    plots,
    presets,
    ranking,
)
from faceboard.report.sources import Sources


@dataclass(frozen=True)
class Section:
    name: str
    load: Callable[[Sources], dict | None]
    template: str


SECTIONS: tuple[Section, ...] = (
    Section("header", header.load, "sections/header.html"),
    Section("ranking", ranking.load, "sections/ranking.html"),
    Section("gate", gate.load, "sections/gate.html"),
    Section("plots", plots.load, "sections/plots.html"),
    Section("gallery", gallery.load, "sections/gallery.html"),
    Section("failures", gate.failures, "sections/failures.html"),
    Section("paired", paired.load, "sections/paired.html"),
    Section("presets", presets.load, "sections/presets.html"),
)
