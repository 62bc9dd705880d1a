"""Scoring speed: faceboard against the official per-image loop and against pure compute, on the same work.

The work is what runs offline: the identity gate (AdaFace IR-50 architecture with a seeded random-weight
checkpoint, the official alignment) and NIQE, on the NTIRE 2025 validation split in ../shared/ntire2025
(450 LQ faces, their landmarks, team15_NAFNet's 450 outputs). Each contender runs in its own process
(peak RSS is that process's own; faceboard's is its cold run's, which is how `faceboard score` starts), back to
back on this machine:

1. faceboard: `score_submission` (the flow `faceboard score` runs) cold (empty cache) then warm (the same
   submission again), timed in-process (Prefect already imported there, so on Prefect's temporary server), with
   faceboard's own breakdown of where the time went; cold again with Prefect's API already up, as with
   faceboard's shared server (faceboard/prefect_server.py) running; then the `faceboard score` command, warm,
   from a fresh interpreter, as the first command (the shared server starts) and again (it is up).
2. the official loop, written here the way the organisers' eval.py runs it: one image at a time, the
   landmark CSV re-read and the LQ file globbed per image, both faces embedded per image (no reuse),
   PIL decoding, NIQE at batch size 1, no torch.no_grad (as inference_face); same library functions.
3. pure compute: only the model and metric calls faceboard's cold run makes (NIQE and alignment +
   embedding of the 450 outputs and the 450 LQ inputs) on arrays decoded beforehand; once in one process
   with torch's intra-op threads, once split over single-threaded worker processes.
4. five methods (the outputs and four re-encoded variants): the identity gate's cost when the LQ side is
   computed once and reused, against five independent scorings (a fresh cache each).

Per-image values of faceboard and the loop must agree (NIQE 1e-6, ID similarity 1e-5).
Results: benchmarks/results/score_speed.json and a table on stdout (copied into the README).

Usage: .venv/bin/python benchmarks/score_speed.py [--images N] [--methods 5] [--skip-methods]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
SHARED = ROOT.parent / "shared" / "ntire2025" / "val"
SUBMISSION = "team15_NAFNet"
BACKBONE = "adaface_ir50"
TARGETS = {"vs_loop": 2.0, "vs_pure_compute": 1.25, "warm": 20.0, "five_methods": 0.6}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--images", type=int, default=450, help="first N images of the split (default: all 450)")
    parser.add_argument("--methods", type=int, default=5, help="methods in the LQ-reuse measurement")
    parser.add_argument("--skip-methods", action="store_true", help="skip the five-method measurement")
    parser.add_argument("--part", help=argparse.SUPPRESS)  # internal: run one contender in this process
    parser.add_argument("--work", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.part:
        result = PARTS[args.part](Path(args.work), args)
        result["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
        print("RESULT " + json.dumps(result))
        return 0
    if not SHARED.is_dir():
        print(f"needs {SHARED} (the NTIRE 2025 validation split)", file=sys.stderr)
        return 2
    with tempfile.TemporaryDirectory(prefix="faceboard-bench-") as tmp:
        work = Path(tmp)
        prepare(work, args.images)
        results = {name: run_part(name, work, args) for name in ("faceboard", "loop", "compute", "compute_workers",
                                                          "batch_sizes")}
        results["cli_warm"] = cli_warm(work)
        if not args.skip_methods:
            make_variants(work, args.methods)
            results["methods"] = run_part("methods", work, args)
        summary = summarise(results, work)
    out = ROOT / "benchmarks" / "results" / "score_speed.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(summary, indent=1) + "\n")
    print(table(summary))
    print(f"\nwritten: {out.relative_to(ROOT)}")
    return 0


# --- setup -------------------------------------------------------------------------------------------

def prepare(work: Path, images: int) -> None:
    """A project (params.yaml) with the first `images` images, and a random-weight AdaFace checkpoint."""
    from tests.random_weights import populate

    env = populate(work / "weights", ["adaface_ir50_ms1mv2"])
    (work / "env.json").write_text(json.dumps(env))
    shutil.copy(ROOT / "params.yaml", work / "params.yaml")
    names = sorted(p.relative_to(SHARED / "lq") for p in (SHARED / "lq").rglob("*.png"))[:images]
    for name in names:
        for source, target in ((SHARED / "lq", work / "lq"), (SHARED / "submissions" / SUBMISSION, work / "out0")):
            (target / name).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy(source / name, target / name)
    shutil.copy(SHARED / "landmarks.csv", work / "landmarks.csv")


def make_variants(work: Path, methods: int) -> None:
    """Methods 1..n-1: the outputs with a slight blur of growing strength, so every content differs."""
    import cv2

    for k in range(1, methods):
        for path in sorted((work / "out0").rglob("*.png")):
            target = work / f"out{k}" / path.relative_to(work / "out0")
            target.parent.mkdir(parents=True, exist_ok=True)
            cv2.imwrite(str(target), cv2.GaussianBlur(cv2.imread(str(path)), (0, 0), 0.3 * k))


def run_part(name: str, work: Path, args: argparse.Namespace) -> dict:
    """Run one contender in a fresh interpreter (its own peak RSS) and return what it printed."""
    env = {**os.environ, **json.loads((work / "env.json").read_text()), "PYTHONPATH": str(ROOT)}
    command = [sys.executable, __file__, "--part", name, "--work", str(work), "--methods", str(args.methods)]
    print(f"running {name} ...", file=sys.stderr, flush=True)
    done = subprocess.run(command, env=env, cwd=work, capture_output=True, text=True, check=False)
    lines = [line for line in done.stdout.splitlines() if line.startswith("RESULT ")]
    if done.returncode or not lines:
        raise RuntimeError(f"{name} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}")
    return json.loads(lines[-1].removeprefix("RESULT "))


def cli_warm(work: Path) -> dict:
    """`faceboard score` from a fresh interpreter on the warm cache, start-up included: what a rerun costs as
    the first faceboard command (its Prefect server starts) and with that shared server already up."""
    env = {**os.environ, **json.loads((work / "env.json").read_text())}
    env.pop("PREFECT_API_URL", None)
    command = [str(Path(sys.executable).with_name("faceboard")), "score", str(work / "out0"), "--lq", str(work / "lq"),
               "--landmarks", str(work / "landmarks.csv"), "--metrics", "niqe", "--backbone", BACKBONE,
               "--device", "cpu", "--out", str(work / "cli")]
    seconds = {}
    for run in ("server_starting", "server_up"):
        start = time.perf_counter()
        subprocess.run(command, env=env, cwd=work, capture_output=True, check=True)
        seconds[run] = time.perf_counter() - start
    subprocess.run([sys.executable, "-c", "from faceboard import prefect_server; prefect_server.stop()"],
                   env={**env, "PYTHONPATH": str(ROOT)}, check=True)
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import flows.score_submission"], env={**env, "PYTHONPATH": str(ROOT)},
                   cwd=work, capture_output=True, check=True)
    return {"seconds": seconds["server_up"], "seconds_server_starting": seconds["server_starting"],
            "import_seconds": time.perf_counter() - start}


# --- contenders (each runs in its own process) ---------------------------------------------------------

def part_faceboard(work: Path, args: argparse.Namespace) -> dict:
    """faceboard's scoring as `faceboard score` runs it (models load while Prefect's server starts), cold then
    warm, on the project's own cache; then cold again (a fresh cache) with the Prefect API already up, as on a
    machine running a Prefect server. Imports are done before the clock starts."""
    import pandas as pd
    import pyarrow.parquet  # noqa: F401 - imported by the first table write otherwise

    from faceboard import prefect_api
    from faceboard.config import load_params
    from faceboard.scoring.per_image import ScorerSpec, loaded, unload
    from flows.score_submission import score_submission

    params = load_params(work / "params.yaml")
    runs = {}
    for run in ("cold", "warm", "cold_server_up"):
        _reset_peak_rss()
        start = time.perf_counter()
        prefect_api.start_early()
        cache = work / "data" / ("cache-server-up" if run == "cold_server_up" else "cache")
        spec = ScorerSpec({"niqe": {}}, BACKBONE, "cpu", cache)
        loaded(spec)
        models_loaded = time.perf_counter()
        prefect_api.ready()
        waited = time.perf_counter()
        report = score_submission(str(work / "out0"), str(work / f"fb-{run}"), params, spec, str(work / "lq"),
                                  str(work / "landmarks.csv"))
        end = time.perf_counter()
        steps = report["timings"]["seconds"]
        inside = steps["scoring, wall clock"] + steps["write tables"]
        steps.update({"waiting for Prefect's server after loading": round(waited - models_loaded, 3),
                      "flow run outside scoring and tables (Prefect, listing, matching)": round(end - waited - inside, 3)})
        runs[run] = {"seconds": end - start, "timings": report["timings"], "failed": report["failed_images"],
                     "peak_rss_mb": _peak_rss_mb()}
        unload()  # the next run loads its own models: never two copies at once (peak RSS)
    runs["prefect_server_peak_rss_mb"] = _server_peak_rss_mb()
    values = pd.read_parquet(work / "fb-cold" / "per_image.parquet")
    warm = pd.read_parquet(work / "fb-warm" / "per_image.parquet")
    runs["warm_equals_cold"] = bool(values[["niqe", "id_sim"]].equals(warm[["niqe", "id_sim"]]))
    runs["values"] = {f"{r.subset}/{r.image}": [r.niqe, r.id_sim] for r in values.itertuples()}
    return runs


def _reset_peak_rss() -> None:
    """Start this process's peak RSS (VmHWM) afresh (Linux), so each run's own peak can be read."""
    Path("/proc/self/clear_refs").write_text("5")


def _peak_rss_mb(pid: int | str = "self") -> float | None:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return None


def _server_peak_rss_mb() -> float | None:
    """Peak RSS of Prefect's temporary server (a separate process), if this process started one."""
    from prefect.server.api.server import SubprocessASGIServer

    process = getattr(SubprocessASGIServer(), "server_process", None)
    return None if process is None else _peak_rss_mb(process.pid)


def part_loop(work: Path, args: argparse.Namespace) -> dict:
    """The organisers' evaluation loop, image by image, with faceboard's functions for each step."""
    import glob

    import numpy as np
    import pandas as pd
    import pyiqa
    import torch
    from PIL import Image
    from torchvision.transforms import functional

    from faceboard.identity.adaface import load_checkpoint, to_input
    from faceboard.identity.align import align_face
    from faceboard.weights.registry import get

    start = time.perf_counter()
    model = load_checkpoint(get("adaface_ir50_ms1mv2").path)
    niqe = pyiqa.create_metric("niqe", device="cpu")
    values = {}
    for output in sorted(glob.glob(str(work / "out0" / "**" / "*.png"), recursive=True)):
        name = os.path.basename(output)
        lq = glob.glob(os.path.join(work / "lq", "**", name), recursive=True)[0]
        table = pd.read_csv(work / "landmarks.csv")
        record = table[table["filename"] == name.split(".")[0]].iloc[0]
        points = np.array([[record[f"{p}_x"], record[f"{p}_y"]] for p in
                           ("left_eye", "right_eye", "nose", "mouth_left", "mouth_right")])
        lq_face = align_face(np.array(Image.open(lq).convert("RGB")), points, 112)
        out_face = align_face(np.array(Image.open(output).convert("RGB")), points, 112)
        lq_feature, _ = model(to_input([lq_face]))
        out_feature, _ = model(to_input([out_face]))
        similarity = (lq_feature @ out_feature.T).item()
        value = niqe(functional.to_tensor(Image.open(output)).unsqueeze(0)).item()
        values[f"{record['dataset']}/{name.split('.')[0]}"] = [value, similarity]
    return {"seconds": time.perf_counter() - start, "threads": torch.get_num_threads(), "values": values}


def _decoded(work: Path) -> tuple[list, list]:
    """Every output and LQ image decoded, with its landmarks (not timed)."""
    from faceboard.imageio import read_rgb
    from faceboard.landmarks import load_landmarks

    marks = load_landmarks(work / "landmarks.csv")
    images, points = [], []
    for folder in ("out0", "lq"):
        for path in sorted((work / folder).rglob("*.png")):
            images.append(read_rgb(path))
            points.append(marks[(path.parent.name, path.stem)])
    return images, points


def _compute(images: list, points: list, batch: int, barrier=None) -> float:
    """faceboard's model calls on decoded images: NIQE and alignment + embedding, `batch` at a time (fewer
    where the model caps its batch on a CPU)."""
    from faceboard.identity.backbones import load_backbone
    from faceboard.imageio import to_batch
    from faceboard.metrics.table import load

    niqe, backbone = load("niqe", {}, "cpu"), load_backbone(BACKBONE, "cpu")
    if barrier is not None:
        barrier.wait()
    embed_batch = min(batch, backbone.max_batch.get("cpu", batch))  # as faceboard calls it
    start = time.perf_counter()
    for i in range(0, len(images), batch):
        niqe(to_batch(images[i:i + batch]))
        for j in range(i, min(i + batch, len(images)), embed_batch):
            backbone.embed(images[j:j + embed_batch], points[j:j + embed_batch])
    return time.perf_counter() - start


def part_compute(work: Path, args: argparse.Namespace) -> dict:
    import torch

    images, points = _decoded(work)
    return {"seconds": _compute(images, points, 8), "threads": torch.get_num_threads(), "images": len(images)}


def part_compute_workers(work: Path, args: argparse.Namespace) -> dict:
    """The same work split over single-threaded worker processes, one per core, started together."""
    import multiprocessing

    workers = os.cpu_count() or 1
    barrier = multiprocessing.Barrier(workers)
    jobs = [multiprocessing.Process(target=_compute_share, args=(str(work), k, workers, barrier))
            for k in range(workers)]
    for job in jobs:
        job.start()
    for job in jobs:
        job.join()
    times = [float(p.read_text()) for p in sorted(work.glob("compute-share-*.txt"))]
    return {"seconds": max(times), "workers": workers}


def _compute_share(work: str, k: int, workers: int, barrier) -> None:
    """One worker: decode and load (not timed), wait for the others, then time its share of the calls."""
    import torch

    torch.set_num_threads(1)
    images, points = _decoded(Path(work))
    seconds = _compute(images[k::workers], points[k::workers], 8, barrier)
    (Path(work) / f"compute-share-{k}.txt").write_text(str(seconds))


def part_batch_sizes(work: Path, args: argparse.Namespace) -> dict:
    """Milliseconds per image of each model call at several batch sizes, on 64 decoded images."""
    from faceboard.identity.backbones import load_backbone
    from faceboard.imageio import to_batch
    from faceboard.metrics.table import load

    images, points = _decoded(work)
    images, points = images[:64], points[:64]
    niqe, backbone = load("niqe", {}, "cpu"), load_backbone(BACKBONE, "cpu")
    calls = {"niqe": lambda i, j: niqe(to_batch(images[i:j])),
             f"identity ({BACKBONE})": lambda i, j: backbone.embed(images[i:j], points[i:j])}
    curves = {}
    for name, call in calls.items():
        call(0, 2)  # first-call set-up is not per-image cost
        curves[name] = {}
        for size in (1, 4, 8, 16, 32):
            start = time.perf_counter()
            for i in range(0, len(images), size):
                call(i, i + size)
            curves[name][size] = round(1000 * (time.perf_counter() - start) / len(images), 2)
    return {"ms_per_image": curves}


def part_methods(work: Path, args: argparse.Namespace) -> dict:
    """The gate's cost for n methods: LQ side reused (one cache) against independent scorings (a cache each)."""
    from faceboard.landmarks import load_landmarks
    from faceboard.layout import list_images
    from faceboard.scoring.per_image import Scorer
    from tasks.score import items_for

    lq, marks = list_images(work / "lq"), load_landmarks(work / "landmarks.csv")
    seconds = {"reused": 0.0, "independent": 0.0}
    counts = {}
    for mode in seconds:
        for k in range(args.methods):
            cache = work / "methods-cache" / (mode if mode == "reused" else f"{mode}-{k}")
            scorer = Scorer({}, BACKBONE, "cpu", cache)
            items, _ = items_for(lq, list_images(work / f"out{k}"), marks)
            start = time.perf_counter()
            scorer.score(f"m{k}", items)
            seconds[mode] += time.perf_counter() - start
            for what, n in scorer.timings.counts.items():
                counts[f"{mode}: {what}"] = counts.get(f"{mode}: {what}", 0) + n
    return {"methods": args.methods, "seconds": seconds, "counts": counts}


PARTS = {"faceboard": part_faceboard, "loop": part_loop, "compute": part_compute,
         "compute_workers": part_compute_workers, "batch_sizes": part_batch_sizes,
         "methods": part_methods}


# --- results -------------------------------------------------------------------------------------------

def summarise(results: dict, work: Path) -> dict:
    import numpy as np

    fb, loop, compute = results["faceboard"], results["loop"], results["compute"]
    keys = sorted(loop["values"])
    ours = np.array([fb["values"][k] for k in keys], dtype=float)
    theirs = np.array([loop["values"][k] for k in keys], dtype=float)
    n = len(keys)
    cold, warm, server_up = fb["cold"]["seconds"], fb["warm"]["seconds"], fb["cold_server_up"]["seconds"]
    summary = {
        "when": time.strftime("%Y-%m-%d %H:%M:%S"), "machine": f"{platform.machine()}, {os.cpu_count()} cores",
        "images": n,
        "faceboard": {"cold_s": cold, "warm_s": warm, "cold_img_s": n / cold, "warm_img_s": n / warm,
                      "cold_server_up_s": server_up, "cold_server_up_img_s": n / server_up,
                      "breakdown_cold_server_up": fb["cold_server_up"]["timings"],
                      "peak_rss_mb": fb["cold"]["peak_rss_mb"], "process_peak_rss_mb": fb["peak_rss_mb"],
                      "prefect_server_peak_rss_mb": fb["prefect_server_peak_rss_mb"],
                      "breakdown_cold": fb["cold"]["timings"],
                      "breakdown_warm": fb["warm"]["timings"], "warm_equals_cold": fb["warm_equals_cold"],
                      "cli_warm_s": results["cli_warm"]["seconds"],
                      "cli_warm_server_starting_s": results["cli_warm"]["seconds_server_starting"],
                      "cli_import_s": results["cli_warm"]["import_seconds"]},
        "loop": {"seconds": loop["seconds"], "img_s": n / loop["seconds"], "peak_rss_mb": loop["peak_rss_mb"],
                 "torch_threads": loop["threads"]},
        "pure_compute": {"threads_s": compute["seconds"], "threads": compute["threads"],
                         "workers_s": results["compute_workers"]["seconds"],
                         "workers": results["compute_workers"]["workers"]},
        "agreement": {"niqe_max_abs": float(np.max(np.abs(ours[:, 0] - theirs[:, 0]))),
                      "id_sim_max_abs": float(np.max(np.abs(ours[:, 1] - theirs[:, 1])))},
    }
    summary["batch_sizes_ms_per_image"] = results["batch_sizes"]["ms_per_image"]
    best_compute = min(compute["seconds"], results["compute_workers"]["seconds"])
    summary["ratios"] = {"vs_loop": loop["seconds"] / cold, "vs_pure_compute": cold / best_compute,
                         "server_up_vs_pure_compute": server_up / best_compute,
                         "warm": cold / warm, "rss_vs_loop": fb["cold"]["peak_rss_mb"] / loop["peak_rss_mb"]}
    if "methods" in results:
        m = results["methods"]
        summary["methods"] = m
        summary["ratios"]["five_methods"] = m["seconds"]["reused"] / m["seconds"]["independent"]
    summary["targets"] = TARGETS
    return summary


def table(s: dict) -> str:
    fb, loop, r = s["faceboard"], s["loop"], s["ratios"]
    rows = [
        ("faceboard cold (in-process)", f"{fb['cold_s']:.1f} s", f"{fb['cold_img_s']:.2f}", f"{fb['peak_rss_mb']:.0f}"),
        ("faceboard warm (in-process)", f"{fb['warm_s']:.2f} s", f"{fb['warm_img_s']:.0f}", ""),
        ("faceboard cold, Prefect API already up (faceboard's shared server)", f"{fb['cold_server_up_s']:.1f} s",
         f"{fb['cold_server_up_img_s']:.2f}", ""),
        ("`faceboard score` warm (fresh interpreter), the shared server starting",
         f"{fb['cli_warm_server_starting_s']:.1f} s", "", ""),
        ("`faceboard score` warm (fresh interpreter), the shared server up", f"{fb['cli_warm_s']:.1f} s", "", ""),
        ("official per-image loop", f"{loop['seconds']:.1f} s", f"{loop['img_s']:.2f}", f"{loop['peak_rss_mb']:.0f}"),
        (f"pure compute, 1 process x {s['pure_compute']['threads']} threads",
         f"{s['pure_compute']['threads_s']:.1f} s", "", ""),
        (f"pure compute, {s['pure_compute']['workers']} processes x 1 thread",
         f"{s['pure_compute']['workers_s']:.1f} s", "", ""),
    ]
    lines = [f"{s['images']} images, {s['machine']}, identity gate ({BACKBONE}, random weights) + NIQE", "",
             "| run | wall | images/s | peak RSS (MB) |", "| --- | --- | --- | --- |"]
    lines += [f"| {' | '.join(row)} |" for row in rows]
    lines += ["", "| ratio | measured | target |", "| --- | --- | --- |",
              f"| loop time / faceboard cold | {r['vs_loop']:.2f}x | >= {TARGETS['vs_loop']}x |",
              f"| faceboard cold / pure compute | {r['vs_pure_compute']:.2f}x | <= {TARGETS['vs_pure_compute']}x |",
              (f"| faceboard cold, Prefect API up / pure compute | {r['server_up_vs_pure_compute']:.2f}x | "
              f"<= {TARGETS['vs_pure_compute']}x |"),
              f"| faceboard cold / warm | {r['warm']:.0f}x | >= {TARGETS['warm']:.0f}x |",
              f"| peak RSS faceboard / loop | {r['rss_vs_loop']:.2f} | <= 1 |"]
    if "five_methods" in r:
        m = s["methods"]
        lines.append(f"| gate cost, {m['methods']} methods, LQ reused / independent | {r['five_methods']:.2f} "
                     f"({m['seconds']['reused']:.0f} s / {m['seconds']['independent']:.0f} s) | "
                     f"<= {TARGETS['five_methods']} |")
    a = s["agreement"]
    lines += ["", (f"per-image agreement with the loop: NIQE max |diff| {a['niqe_max_abs']:.1e}, "
                   f"ID similarity max |diff| {a['id_sim_max_abs']:.1e}"),
              "", ("where faceboard's cold run spends its time: seconds per step summed over its threads "
                   "(lanes and reading overlap), and wall clock")]
    lines += [f"  {k}: {v}" for k, v in fb["breakdown_cold"]["seconds"].items()]
    lines.append(f"  whole run: {fb['cold_s']:.1f}")
    lines += ["", "milliseconds per image by batch size (this CPU):"]
    lines += [f"  {name}: " + ", ".join(f"{size}: {ms}" for size, ms in curve.items())
              for name, curve in s["batch_sizes_ms_per_image"].items()]
    return "\n".join(lines)


if __name__ == "__main__":
    sys.exit(main())
