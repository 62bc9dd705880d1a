"""Score files written by hand, to build leaderboards from known per-image values."""

from __future__ import annotations

import json

import pandas as pd

from faceboard.catalog import ScoreFiles

VERIFIED = {"weights": {"f.pth": "ab" * 32}, "weights_verified": True, "weights_unverified": {}}


def dataset_record(images: int, **changes) -> dict:
    """A score stage's `dataset` record for an LQ set that is not an official split."""
    return {"name": "toy", "protocol": "ntire2025", "images": images, "subsets": {}, "lq_sha256": "0" * 64,
            "official_split": None, "not_official_because": f"{images} LQ images, 0 matching", "official_landmarks":
            False, "landmarks": {"source": "csv", "sha256": "1" * 64}, **changes}


def provenance(images: int, metrics=("niqe",), backbone: str | None = "dlib_resnet", **changes) -> dict:
    gate = {"backbone": backbone, "official": backbone == "adaface_ir50", **VERIFIED} if backbone else None
    return {"dataset": dataset_record(images), "metrics": {m: {"options": {}, **VERIFIED} for m in metrics},
            "unavailable_metrics": {}, "id_backbone": gate, "versions": {"faceboard": "test"}, **changes}


def write(files: ScoreFiles, per_image: pd.DataFrame, record: dict, set_metrics: dict | None = None) -> ScoreFiles:
    """Write one method's score files as the score stage lays them out."""
    files.folder.mkdir(parents=True, exist_ok=True)
    per_image.to_parquet(files.per_image, index=False)
    files.provenance.write_text(json.dumps(record))
    files.set_metrics.write_text(json.dumps(set_metrics or {}))
    return files


XSS = "<img src=x onerror=alert(1)>"  # a method name that must render as text
CRASH = "</script><script>alert(2)</script>"  # an error message that must too


def page_board(folder, lq, params):
    """A board over the 10 LQ faces of `lq` for the page's tests, built with the DAG's builder and thumbnails:
    `good` and XSS ranked, `bad_id` over the identity limit, `crashed` with every image failed. Outputs are real
    images (the LQ faces filtered); the per-image values are written by hand. Returns the BoardFiles."""
    from pathlib import Path

    import cv2

    from faceboard.catalog import BoardFiles
    from faceboard.imageio import read_rgb, write_png_atomic
    from faceboard.layout import list_images
    from tasks.leaderboard import build_leaderboard

    folder = Path(folder)
    refs = list_images(Path(lq))
    n = len(refs)
    methods = {"good": (5.0, 0.99, "ok"), XSS: (6.0, 0.98, "ok"), "bad_id": (4.0, 0.99, "ok"),
               "crashed": (float("nan"), float("nan"), "failed")}
    scores, outputs = {}, {}
    for k, (method, (niqe, sim, status)) in enumerate(methods.items()):
        out = folder / "restored" / f"m{k}"
        if status == "ok":
            for ref in refs:
                rgb = cv2.GaussianBlur(read_rgb(ref.path), (0, 0), 1.0 + k)
                write_png_atomic(out / ref.subset / f"{ref.name}.png", rgb)
            outputs[method] = out
        frame = pd.DataFrame({"method": method, "subset": [r.subset for r in refs], "image": [r.name for r in refs],
                              "status": status, "error": CRASH if status == "failed" else "",
                              "id_sim": [0.1 if method == "bad_id" and i == 0 else sim for i in range(n)],
                              "niqe": [niqe + 0.1 * i for i in range(n)], "lq_niqe": [9.0] * n})
        scores[method] = write(ScoreFiles(folder / "scores" / f"m{k}"), frame, provenance(n))
    board = BoardFiles(folder / "board")
    build_leaderboard(params, scores, board, Path(lq), outputs)
    return board
