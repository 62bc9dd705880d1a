"""The page for a full-size board: the 450-image NTIRE 2025 validation submission (../shared/ntire2025) beside the
sample's computed methods run on the same 450 LQ faces, and what its gallery costs against the size budget.

1. prepare (cached in WORK, not timed): the sample's NLM methods and two more NLM strengths restore the 450 LQ faces
   (realesrgan-x4plus is left out: about 17 s per image on CPU); each output folder and the team's submission are
   scored with `faceboard score --lq ... --metrics niqe` (NIQE and params.yaml's identity gate); one board is built
   from all their scores with the DAG's builder;
2. timed: the gallery's thumbnails (params.yaml `report`), then the page from the tables (`faceboard report`'s
   path), each on its own; the page's size and the gallery's against the budget; how many images the budget kept;
3. the same with a budget of TIGHT_MB, to show the page keeping a chosen share of the images.

Usage: .venv/bin/python benchmarks/report_build.py [WORK]   (first run about 15 minutes on 2 cores, then seconds)
Results: benchmarks/results/report_build.json and a table on stdout (copied into the README).
"""

from __future__ import annotations

import json
import platform
import subprocess
import sys
import time
from pathlib import Path

import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from faceboard.catalog import BoardFiles
from faceboard.config import MethodConfig, load_params
from faceboard.report import page, thumbnails
from tasks.leaderboard import build_leaderboard
from tasks.restore import restore_method

VAL = ROOT.parent / "shared" / "ntire2025" / "val"
SUBMISSION = "team15_NAFNet"
TIGHT_MB = 3.0
COMPUTED = {
    "lq": {"type": "lq"},
    "opencv_nlm_sharpen": None,  # params.yaml's entries
    "nlm_niqe_chain": None,
    "nlm_strong": {"type": "opencv_nlm_sharpen", "options": {"h": 10, "sharpen_amount": 1.0}},
    "nlm_soft": {"type": "opencv_nlm_sharpen", "options": {"h": 4, "sharpen_amount": 0.4}},
}


def main(work: Path) -> dict:
    params = load_params(ROOT / "params.yaml")
    lq = VAL / "lq"
    folders = {SUBMISSION: VAL / "submissions" / SUBMISSION}
    for method, entry in COMPUTED.items():
        config = params.methods[method] if entry is None else MethodConfig(**entry)
        out = work / "restored" / method
        if not (out / "restore_log.parquet").is_file():
            restore_method(method, config, lq, out, ROOT, "cpu", params.batch_size, params.seed)
        folders[method] = out
    scores = {}
    for method, folder in folders.items():
        out = work / "scored" / method
        if not (out / "run.json").is_file():
            subprocess.run([sys.executable, "-m", "faceboard.cli", "score", str(folder), "--lq", str(lq),
                            "--landmarks", str(VAL / "landmarks.csv"), "--metrics", "niqe", "--out", str(out)],
                           cwd=ROOT, check=True)
        scores[method] = BoardFiles(out).scores(folder.name)
    board = BoardFiles(work / "board")
    outputs = {m: f for m, f in folders.items() if m != "lq"}  # the lq method's outputs are its inputs
    build_leaderboard(params, scores, board)
    per_image = pd.read_parquet(board.per_image)

    result = {"machine": f"{platform.node()} ({platform.processor() or platform.machine()})",
              "images": int(per_image[["subset", "image"]].drop_duplicates().shape[0]),
              "methods": sorted(scores), "gallery_columns": ["input", *outputs]}
    tight = params.report.model_copy(update={"gallery_mb": TIGHT_MB})
    for label, config in (("params.yaml", params.report), ("tight", tight)):
        start = time.perf_counter()
        gallery = thumbnails.of_board(per_image, lq, outputs, config)
        thumbnails.write(gallery, board.thumbnails)
        made = time.perf_counter() - start
        start = time.perf_counter()
        html = page.write(board, work / f"leaderboard-{label.replace(' ', '-')}.html")
        built = time.perf_counter() - start
        result[label] = {"thumbnails_s": round(made, 2), "page_s": round(built, 2),
                         "page_mb": round(html.stat().st_size / 1e6, 2), "gallery": gallery.record,
                         "note": gallery.note}
    return result


def table(result: dict) -> str:
    lines = ["| gallery budget | thumbnails | page from tables | page size | gallery / budget | images shown |",
             "| --- | --- | --- | --- | --- | --- |"]
    for label in ("params.yaml", "tight"):
        r = result[label]
        g = r["gallery"]
        lines.append(f"| {g['budget_mb']:g} MB ({label}) | {r['thumbnails_s']} s | {r['page_s']} s | {r['page_mb']} MB "
                     f"| {g['used_mb']} MB = {g['used_mb'] / g['budget_mb']:.2f} | {g['shown']} of {g['images']} |")
    return "\n".join(lines)


if __name__ == "__main__":
    work = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("/tmp/faceboard-report-bench")
    result = main(work)
    out = ROOT / "benchmarks" / "results" / "report_build.json"
    out.write_text(json.dumps(result, indent=1) + "\n")
    print(json.dumps({k: v for k, v in result.items() if k not in ("params.yaml", "tight")}, indent=1))
    print(table(result))
