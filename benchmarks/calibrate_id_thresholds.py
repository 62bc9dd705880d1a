"""Calibrate per-subset cosine thresholds of the identity gate for a non-official backbone.

Genuine pairs: each LQ image vs the submission's restored image of the same name (both aligned
with the LQ landmarks, as the official check does). Impostor pairs: every pair of LQ images of
different people within a subset (all pairs rather than a random few: no seed, a stable p99).
LFW-Test and CelebChild-Test names encode the person, so same-person pairs are excluded there;
elsewhere every file is taken as a different face (CelebA may hold a few same-person pairs).

Rule: threshold = impostor 99th percentile rounded up to `--step`, lowered (in `--step` units) to at
most the genuine 1st percentile when the two overlap (impostor false-accept rate about 1%, as a
stand-in for AdaFace's, which cannot be run offline). dlib's impostor cosines average 0.83-0.90 (p99 0.91-0.95), so
a 0.05 step would give 0.95 for every subset; the default step is 0.01. Run:

    python benchmarks/calibrate_id_thresholds.py --lq LQ_DIR --landmarks landmarks.csv \
        --submission SUBMISSION_DIR --backbone dlib_resnet
"""

from __future__ import annotations

import argparse
import math
import re
from pathlib import Path

import numpy as np

from faceboard.identity.backbones import load_backbone
from faceboard.identity.gate import cosine_similarity, id_pass
from faceboard.imageio import read_rgb
from faceboard.landmarks import load_landmarks
from faceboard.protocol import NTIRE2025

OFFICIAL_ADAFACE = NTIRE2025.thresholds


def person(subset: str, stem: str) -> str:
    """Identity key: the person's name where the file name encodes it, else the file itself."""
    if subset == "LFW-Test":  # Name_Surname_0001_00
        return re.sub(r"_\d{4}_\d{2}$", "", stem)
    if subset == "CelebChild-Test":  # 009_Name_Surname_00 (some names use spaces)
        return re.sub(r"^\d+_|_\d{2}$", "", stem).replace(" ", "_")
    return stem


def impostor_pairs(subset: str, stems: list[str]) -> list[tuple[int, int]]:
    """All (i, j), i < j, index pairs into `stems` (one subset's file stems) of different people."""
    people = [person(subset, stem) for stem in stems]
    return [(i, j) for i in range(len(stems)) for j in range(i + 1, len(stems)) if people[i] != people[j]]


def suggest(genuine: np.ndarray, impostor: np.ndarray, step: float) -> float:
    """Impostor p99 rounded up to `step`, capped (rounded down) at the genuine p1."""
    up = math.ceil(round(np.percentile(impostor, 99) / step, 6)) * step
    cap = math.floor(round(np.percentile(genuine, 1) / step, 6)) * step
    return round(min(up, cap), 6)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lq", type=Path, required=True, help="folder of <Subset>/<name>.png LQ inputs")
    parser.add_argument("--landmarks", type=Path, required=True, help="official landmarks.csv")
    parser.add_argument("--submission", type=Path, required=True, help="restored outputs, same layout as --lq")
    parser.add_argument("--backbone", default="dlib_resnet")
    parser.add_argument("--step", type=float, default=0.01, help="threshold rounding step")
    args = parser.parse_args(argv)

    landmarks = load_landmarks(args.landmarks)
    backbone = load_backbone(args.backbone)
    print(f"backbone {args.backbone}: {backbone.provenance()}")
    header = (
        f"{'subset':16s} {'n':>4s} | {'gen mean':>8s} {'min':>6s} {'p1':>6s} {'p5':>6s} {'p50':>6s} | "
        f"{'imp n':>5s} {'mean':>6s} {'p99':>6s} {'max':>6s} | {'thr':>5s} {'gen<thr':>7s} {'FAR':>6s} | AdaFace"
    )
    print(header)
    thresholds, fails = {}, 0
    for subset_dir in sorted(p for p in args.lq.iterdir() if p.is_dir()):
        subset = subset_dir.name
        stems = [p.stem for p in sorted(subset_dir.glob("*.png"))]
        marks = [landmarks[(subset, stem)] for stem in stems]
        lq = backbone.embed([read_rgb(args.lq / subset / f"{stem}.png") for stem in stems], marks)
        restored = backbone.embed([read_rgb(args.submission / subset / f"{stem}.png") for stem in stems], marks)
        genuine = cosine_similarity(lq, restored)
        i, j = np.array(impostor_pairs(subset, stems)).T
        impostor = cosine_similarity(lq[i], lq[j])
        thr = suggest(genuine, impostor, args.step)
        thresholds[subset] = thr
        below = int((~id_pass(genuine, np.full(len(genuine), thr))).sum())
        fails += below
        g1, g5, g50 = np.percentile(genuine, [1, 5, 50])
        print(
            f"{subset:16s} {len(stems):4d} | {genuine.mean():8.4f} {genuine.min():6.4f} {g1:6.4f} {g5:6.4f} {g50:6.4f} | "
            f"{len(impostor):5d} {impostor.mean():6.4f} {np.percentile(impostor, 99):6.4f} {impostor.max():6.4f} | "
            f"{thr:5.2f} {below:7d} {np.mean(impostor >= thr):6.2%} | {OFFICIAL_ADAFACE.get(subset, float('nan')):.1f}"
        )
    print(f"genuine failures in total: {fails}")
    print(f"thresholds for params.yaml (id_threshold.{args.backbone}): {thresholds}")


if __name__ == "__main__":
    main()
