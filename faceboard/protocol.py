"""The official challenge protocol: the rules a leaderboard must follow to stand beside the official one.

One entry per edition. `faceboard.scoring.comparability` checks a run against it; params.yaml states the
rules a run actually applies (`identity`, `score`, the dataset's thresholds).
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Protocol:
    """An edition's verdict rules.

    `subsets`: image count per subset of its test split. `thresholds`: the identity threshold per subset
    for the official `backbone` (a face fails strictly below it). `max_failures` of `failures_per` images
    may fail the identity test. `terms`: score term -> ("scale", s) or ("headroom", h).
    `splits`: the catalog entries (params.yaml `datasets`) that are this edition's official splits.
    """

    name: str
    subsets: dict[str, int]
    backbone: str
    thresholds: dict[str, float]
    max_failures: int
    failures_per: int
    terms: dict[str, tuple[str, float]]
    failed_images: str = "worst"
    splits: tuple[str, ...] = field(default_factory=tuple)

    @property
    def images(self) -> int:
        return sum(self.subsets.values())


NTIRE2025 = Protocol(
    name="ntire2025",
    subsets={"CelebA": 100, "CelebChild-Test": 50, "LFW-Test": 100, "WebPhoto-Test": 100, "Wider-Test": 100},
    backbone="adaface_ir50",
    thresholds={"CelebA": 0.5, "CelebChild-Test": 0.6, "LFW-Test": 0.6, "WebPhoto-Test": 0.3, "Wider-Test": 0.3},
    max_failures=10,
    failures_per=450,
    terms={"clipiqa": ("scale", 1.0), "maniqa": ("scale", 1.0), "musiq": ("scale", 0.01), "qalign": ("scale", 0.2),
           "niqe": ("headroom", 10.0), "fid": ("headroom", 100.0)},
    splits=("ntire2025-val", "ntire2025-test"),
)

EDITIONS: dict[str, Protocol] = {NTIRE2025.name: NTIRE2025}


def failure_limit(max_failures: int, failures_per: int, n_images: int) -> int:
    """The identity failures allowed on `n_images`: `max_failures` of `failures_per`, scaled down (floor)."""
    return max_failures * n_images // failures_per
