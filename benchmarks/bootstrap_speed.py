"""Bootstrap speed: confidence on a synthetic NTIRE-sized board, against a 1 s budget.

10 methods x 450 images (five subsets of the NTIRE 2025 sizes 100/50/100/100/100), NIQE-like and
MUSIQ-like per-image values, a few identity failures each, FID as a set metric; the board is gated,
charged and summarised as `faceboard.scoring.build` does, then `faceboard.scoring.bootstrap.confidence`
(the whole call: alignment, resampling, intervals, pairwise table) is timed, best of 5.

Usage: .venv/bin/python benchmarks/bootstrap_speed.py [--resamples 1000] [--methods 10]
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from faceboard.config import BootstrapConfig
from faceboard.protocol import ScoreTerm
from faceboard.scoring.bootstrap import confidence
from faceboard.scoring.charge import charge_failed
from faceboard.scoring.leaderboard import Gate, apply_gate, summarise

SUBSETS = {"CelebA": 100, "CelebChild-Test": 50, "LFW-Test": 100, "WebPhoto-Test": 100, "Wider-Test": 100}
TERMS = {"niqe": ScoreTerm(headroom=10), "musiq": ScoreTerm(scale=0.01), "fid": ScoreTerm(headroom=100)}
METRICS = ["niqe", "musiq", "fid"]
BUDGET_S = 1.0


def synthetic_board(methods: int, seed: int = 0) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(charged per-image rows, leaderboard table) of `methods` methods on 450 NTIRE-sized images."""
    rng = np.random.default_rng(seed)
    subsets = [s for s, n in SUBSETS.items() for _ in range(n)]
    n = len(subsets)
    frames = []
    for k in range(methods):
        frames.append(pd.DataFrame({
            "method": f"team{k:02d}", "subset": subsets, "image": [f"{i:04d}" for i in range(n)],
            "status": "ok", "error": "",
            "id_sim": np.where(rng.random(n) < 0.02, 0.2, 0.95),  # about 9 failures of a limit of 10
            "niqe": rng.gamma(9.0, 0.5 + 0.02 * k, n),  # NIQE-like: around 4.5-6, right-skewed
            "musiq": np.clip(rng.normal(68 - 0.8 * k, 6, n), 0, 100),  # MUSIQ-like: 0-100, around 60-70
        }))
    gate = Gate("dlib_resnet", dict.fromkeys(SUBSETS, 0.5), limit=10)
    charged = charge_failed(apply_gate(pd.concat(frames, ignore_index=True), gate), ["niqe", "musiq"], "worst")
    fid = {f"team{k:02d}": {"fid": float(rng.uniform(40, 80))} for k in range(methods)}
    return charged, summarise(charged, METRICS, gate, TERMS, fid)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--methods", type=int, default=10)
    parser.add_argument("--repeats", type=int, default=5)
    args = parser.parse_args()
    charged, table = synthetic_board(args.methods)
    config = BootstrapConfig(resamples=args.resamples)
    times = []
    for _ in range(args.repeats):
        start = time.perf_counter()
        out, pairwise = confidence(charged, table, METRICS, TERMS, config, seed=0)
        times.append(time.perf_counter() - start)
    best = min(times)
    images = charged.groupby("method").size().iloc[0]
    print(f"bootstrap: {args.methods} methods x {images} images x {args.resamples} resamples: "
          f"best of {args.repeats} {best * 1000:.1f} ms ({best / BUDGET_S:.3f} of the {BUDGET_S:g} s budget); "
          f"{len(out)} rows, {len(pairwise)} pairs")


if __name__ == "__main__":
    main()
