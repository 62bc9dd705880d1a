"""GPU check: identity backbone and quality metrics on CUDA against CPU, with batching.

Random-weight checkpoints of the real architectures (tests/random_weights.py) in a temporary cache:
the figures say whether the device path and batching give the CPU's numbers, not quality.
Usage: python benchmarks/gpu_check.py [--niqe-mat PATH]
"""

from __future__ import annotations

import argparse
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from tests.random_weights import populate  # noqa: E402

SAMPLE = ROOT / "data" / "samples" / "ntire2025-val"
WEIGHTS = ["adaface_ir50_ms1mv2", "musiq_koniq", "clip_rn50", "maniqa_koniq", "fid_inception", "fid_ffhq512_stats"]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--niqe-mat", type=Path, help="a provisioned niqe_modelparameters.mat to use")
    args = parser.parse_args()
    cache = Path(tempfile.mkdtemp())
    os.environ.update(populate(cache, WEIGHTS))
    if args.niqe_mat:
        target = cache / "torch" / "hub" / "pyiqa" / "niqe_modelparameters.mat"
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(args.niqe_mat, target)
    from faceboard import env

    env.configure()
    import numpy as np
    import torch

    from faceboard.imageio import read_rgb, to_batch
    from faceboard.landmarks import load_landmarks

    marks = load_landmarks(SAMPLE / "landmarks.csv")
    keys = sorted(marks)
    images = [read_rgb(SAMPLE / "lq" / s / f"{n}.png") for s, n in keys]
    points = [marks[k] for k in keys]
    batch = to_batch(images)
    print(f"device: {torch.cuda.get_device_name(0)}, torch {torch.__version__}, {len(images)} images")

    def timed(fn):
        fn()
        torch.cuda.synchronize()
        start = time.perf_counter()
        out = fn()
        torch.cuda.synchronize()
        return out, (time.perf_counter() - start) / len(images)

    try:
        from faceboard.identity.adaface import AdaFaceIR50

        cpu, gpu = AdaFaceIR50("cpu"), AdaFaceIR50("cuda")
        e_cpu, t_cpu = timed(lambda: cpu.embed(images, points))
        e_gpu, t_gpu = timed(lambda: gpu.embed(images, points))
        one = np.concatenate([gpu.embed([i], [p]) for i, p in zip(images, points)])
        print(f"adaface_ir50: max|cpu-cuda| {np.abs(e_cpu - e_gpu).max():.2e}, batch-vs-single {np.abs(one - e_gpu).max():.2e}, "
              f"{t_cpu * 1e3:.1f} ms/img cpu, {t_gpu * 1e3:.2f} ms/img cuda, speed-up {t_cpu / t_gpu:.1f}x")
    except Exception as err:  # noqa: BLE001 - report and go on to the next check
        print(f"adaface_ir50: FAILED {type(err).__name__}: {err}")

    from faceboard.metrics.table import load

    options = {"maniqa": {"test_sample": 1}}
    for name in ("niqe", "piqe", "musiq", "clipiqa", "maniqa"):
        try:
            cpu, gpu = load(name, options.get(name), "cpu"), load(name, options.get(name), "cuda")
            v_cpu, t_cpu = timed(lambda: cpu(batch))
            v_gpu, t_gpu = timed(lambda: gpu(batch))
            singles = np.array([gpu(batch[i:i + 1])[0] for i in range(len(images))])
            rel = np.abs(v_cpu - v_gpu).max() / max(np.abs(v_cpu).max(), 1e-12)
            print(f"{name}: max rel |cpu-cuda| {rel:.2e}, batch-vs-single {np.abs(singles - v_gpu).max():.2e}, "
                  f"{t_cpu * 1e3:.1f} ms/img cpu, {t_gpu * 1e3:.2f} ms/img cuda, speed-up {t_cpu / t_gpu:.1f}x")
        except Exception as err:  # noqa: BLE001
            print(f"{name}: FAILED {type(err).__name__}: {err}")
    try:
        cpu, gpu = load("fid", None, "cpu"), load("fid", None, "cuda")
        f_cpu, f_gpu = cpu.features(batch), gpu.features(batch)
        print(f"fid features: max|cpu-cuda| {np.abs(f_cpu - f_gpu).max():.2e}; fid cpu {cpu.compute(f_cpu):.4f} "
              f"cuda {gpu.compute(f_gpu):.4f}")
    except Exception as err:  # noqa: BLE001
        print(f"fid: FAILED {type(err).__name__}: {err}")


if __name__ == "__main__":
    main()
