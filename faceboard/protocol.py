"""The official challenge protocols: one entry per edition, the rules a leaderboard must follow to stand
beside that edition's official ranking.

params.yaml `protocol:` picks the edition a run follows; its identity thresholds (for the official backbone),
failure limit and score terms apply unless params.yaml overrides them, which makes the run not comparable
(faceboard.scoring.comparability says why).
"""

from __future__ import annotations

from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict, model_validator


class ScoreTerm(BaseModel):
    """One term of the score: `scale * x`, or `max(0, (headroom - x) / headroom)`."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    scale: float | None = None
    headroom: float | None = None

    @model_validator(mode="after")
    def _one_kind(self) -> ScoreTerm:
        if (self.scale is None) == (self.headroom is None):
            raise ValueError("a score term needs exactly one of `scale` or `headroom`")
        return self

    def value(self, x: float) -> float:
        if self.scale is not None:
            return self.scale * x
        return max(0.0, (self.headroom - x) / self.headroom)


@dataclass(frozen=True)
class Protocol:
    """An edition's verdict rules.

    `subsets`: image count per subset of its test split ("All" weights each subset mean by these counts,
    the per-image mean of a complete submission). `thresholds`: the identity threshold per subset for the
    official `backbone` (a face fails strictly below it). `max_failures` of `failures_per` images may fail
    the identity test. `splits`: the catalog entries (params.yaml `datasets`) that are its official splits.
    `source`: where the organisers' evaluation code states these rules.
    """

    name: str
    subsets: dict[str, int]
    backbone: str
    thresholds: dict[str, float]
    max_failures: int
    failures_per: int
    terms: dict[str, ScoreTerm]
    splits: tuple[str, ...]
    source: str
    failed_images: str = "worst"

    @property
    def images(self) -> int:
        return sum(self.subsets.values())


_SUBSETS = {"CelebA": 100, "CelebChild-Test": 50, "LFW-Test": 100, "WebPhoto-Test": 100, "Wider-Test": 100}
_TERMS = {"clipiqa": ScoreTerm(scale=1.0), "maniqa": ScoreTerm(scale=1.0), "musiq": ScoreTerm(scale=0.01),
          "qalign": ScoreTerm(scale=0.2), "niqe": ScoreTerm(headroom=10.0), "fid": ScoreTerm(headroom=100.0)}

NTIRE2025 = Protocol(
    name="ntire2025",
    subsets=_SUBSETS,
    backbone="adaface_ir50",
    thresholds={"CelebA": 0.5, "CelebChild-Test": 0.6, "LFW-Test": 0.6, "WebPhoto-Test": 0.3, "Wider-Test": 0.3},
    max_failures=10,
    failures_per=450,
    terms=_TERMS,
    splits=("ntire2025-val", "ntire2025-test"),
    source="github zhengchen1999/NTIRE2025_RealWorld_Face_Restoration (eval.py, face_alignment/); challenge report",
)

NTIRE2026 = Protocol(
    name="ntire2026",
    subsets=_SUBSETS,
    backbone="adaface_ir50",
    # eval.py at 7ca192df; its README still prints 0.30 for both, its code and conclusion say 0.20-0.25
    thresholds={"CelebA": 0.5, "CelebChild-Test": 0.6, "LFW-Test": 0.6, "WebPhoto-Test": 0.25, "Wider-Test": 0.2},
    max_failures=10,  # "more than 10 failures" is stated in the report, not coded in eval.py
    failures_per=450,
    terms=_TERMS,
    splits=("ntire2026-test",),
    source="github jkwang28/NTIRE2026_RealWorld_Face_Restoration eval.py at 7ca192df; arXiv 2604.10532",
)

EDITIONS: dict[str, Protocol] = {p.name: p for p in (NTIRE2025, NTIRE2026)}


def get(name: str) -> Protocol:
    """The edition called `name`; KeyError naming the known ones."""
    try:
        return EDITIONS[name]
    except KeyError:
        raise KeyError(f"unknown protocol {name!r}; known: {', '.join(EDITIONS)}") from None


def failure_limit(max_failures: int, failures_per: int, n_images: int) -> int:
    """The identity failures allowed on `n_images`: `max_failures` of `failures_per`, scaled down (floor)."""
    return max_failures * n_images // failures_per
