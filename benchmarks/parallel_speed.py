"""Serial against parallel shards on the embedded sample, and what adding one method to the pipeline costs.

The leaderboard of the sample's five methods plus EXTRA (seven methods), each part in a fresh clone of this
checkout's HEAD (commit first), run with the command a user runs, `faceboard run` (DVC):

1. serial: params.yaml `execution.workers: 1` (every shard one after another);
2. parallel: `execution.workers: 2` (the stale methods' restore and score shards in two worker processes,
   then `dvc repro`, whose stages resume the restored images and read the score cache);
   both wall times and their ratio; the two runs' outputs (restored images, scores, leaderboard) compared
   byte for byte;
3. in the parallel clone, one method (ADDED) added to params.yaml and `faceboard run` again: the stages DVC
   ran, from its own output, and that run's wall time.

Usage: .venv/bin/python benchmarks/parallel_speed.py   (about 20 minutes on 2 cores)
Results: benchmarks/results/parallel_speed.json and a table on stdout (copied into the README).
"""

from __future__ import annotations

import json
import os
import platform
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from faceboard.dvc_repo import stages_run  # noqa: E402

EXTRA = {
    "nlm_strong": {"type": "opencv_nlm_sharpen", "options": {"h": 10, "sharpen_amount": 1.0}},
    "nlm_soft": {"type": "opencv_nlm_sharpen", "options": {"h": 4, "sharpen_amount": 0.4}},
}
ADDED = {"nlm_mild": {"type": "opencv_nlm_sharpen", "options": {"h": 3, "sharpen_amount": 0.5}}}
COMPARED = ("data/restored", "data/scores", "data/leaderboard")
VARIABLE = ("run.json",)  # records when and how the run happened


def main() -> int:
    results: dict = {"machine": {"cores": len(os.sched_getaffinity(0)), "python": platform.python_version()},
                     "commit": _git("rev-parse", "HEAD")}
    with tempfile.TemporaryDirectory(prefix="faceboard-parallel-") as tmp:
        runs = {}
        for name, workers in (("serial", 1), ("parallel", 2)):
            project = _clone(Path(tmp) / name, {**EXTRA}, workers)
            runs[name] = {"workers": workers, **_run(project)}
            runs[name]["project"] = project
        results["methods"] = len(_params(runs["serial"]["project"])["methods"])
        differ = _differences(runs["serial"]["project"], runs["parallel"]["project"])
        project = runs["parallel"]["project"]
        params = _params(project)
        params["methods"].update(ADDED)
        (project / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
        added = _run(project)
        for run in runs.values():
            del run["project"]
    results.update(
        serial=runs["serial"], parallel=runs["parallel"],
        serial_over_parallel=round(runs["serial"]["seconds"] / runs["parallel"]["seconds"], 3),
        outputs_identical=not differ, differing_files=differ[:20],
        add_one_method={"method": next(iter(ADDED)), **added})
    out = ROOT / "benchmarks" / "results" / "parallel_speed.json"
    out.write_text(json.dumps(results, indent=1) + "\n")
    print(table(results))
    print(f"results: {out}")
    return 0


def _git(*args: str) -> str:
    return subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, check=True).stdout.strip()


def _clone(dest: Path, extra: dict, workers: int) -> Path:
    subprocess.run(["git", "clone", "-q", str(ROOT), str(dest)], check=True)
    params = _params(dest)
    params["methods"].update(extra)
    params["execution"]["workers"] = workers
    (dest / "params.yaml").write_text(yaml.safe_dump(params, sort_keys=False))
    return dest


def _params(project: Path) -> dict:
    return yaml.safe_load((project / "params.yaml").read_text())


def _run(project: Path) -> dict:
    """`faceboard run` in `project`: wall time and the stages DVC ran."""
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "faceboard.cli", "run"], cwd=project, capture_output=True,
                          text=True, check=False)
    seconds = time.perf_counter() - start
    if done.returncode:
        raise SystemExit(f"faceboard run failed in {project}:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}")
    return {"seconds": round(seconds, 1), "stages_run": stages_run(done.stdout + done.stderr)}


def _differences(one: Path, other: Path) -> list[str]:
    """Files of COMPARED that are not byte-identical in both projects (or exist in one only)."""
    def files(project: Path) -> dict[str, bytes]:
        return {p.relative_to(project).as_posix(): p.read_bytes() for folder in COMPARED
                for p in (project / folder).rglob("*") if p.is_file() and p.name not in VARIABLE}

    a, b = files(one), files(other)
    return sorted(name for name in a.keys() | b.keys() if a.get(name) != b.get(name))


def table(r: dict) -> str:
    added = r["add_one_method"]
    return "\n".join([
        f"| {r['methods']} methods, sample (10 images), {r['machine']['cores']} cores | wall |",
        "| --- | --- |",
        f"| `faceboard run`, 1 worker | {r['serial']['seconds']:.0f} s |",
        f"| `faceboard run`, 2 workers | {r['parallel']['seconds']:.0f} s |",
        f"| serial / parallel | {r['serial_over_parallel']:.2f}x (outputs identical: {r['outputs_identical']}) |",
        f"| then one method added ({added['method']}), `faceboard run` | {added['seconds']:.0f} s; "
        f"DVC ran {', '.join(added['stages_run'])} |"])


if __name__ == "__main__":
    sys.exit(main())
