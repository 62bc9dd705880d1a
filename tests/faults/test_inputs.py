"""Bad input: each case of a corpus generated here gives its clear error or its documented normalisation, at the
image reader and through `faceboard score`, where one bad image never stops the others nor alters earlier results."""

from __future__ import annotations

import csv
import io
import json
import shutil
import struct
import zlib
from collections.abc import Callable
from pathlib import Path
from typing import NamedTuple

import cv2
import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageOps

from faceboard.imageio import MAX_PIXELS, ImageError, read_rgb, read_rgb_checked
from tests.conftest import SAMPLE, run_cli
from tests.faults.snapshot import checksums, unchanged

SUBMISSION = SAMPLE / "submissions" / "team15_NAFNet"
SOURCE = ("CelebA", "162798")  # the sample image the corpus is made of
RESAVE = "re-save it as an 8-bit RGB PNG"


def _png(width: int, height: int, bit_depth: int, colour: int, rows: bytes, repeat: int) -> bytes:
    """A PNG of `rows` (filter bytes included) repeated `repeat` times, compressed as one stream."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    packer = zlib.compressobj(9)
    body = b"".join(packer.compress(rows) for _ in range(repeat)) + packer.flush()
    header = struct.pack(">IIBBBBB", width, height, bit_depth, colour, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", body) + chunk(b"IEND", b"")


def _bomb(side: int) -> bytes:
    """A black 1-bit side x side PNG: a few hundred KB that would decode to side^2 x 3 bytes."""
    row = b"\0" * (1 + side // 8)
    return _png(side, side, 1, 0, row * 1000, side // 1000)


def _save(image: Image.Image, fmt: str, **options: object) -> bytes:
    buffer = io.BytesIO()
    image.save(buffer, fmt, **options)
    return buffer.getvalue()


def _rgba(rgb: np.ndarray) -> Image.Image:
    alpha = np.tile(np.arange(512, dtype=np.uint16) // 2, (512, 1)).astype(np.uint8)  # 0..255: compositing shows
    return Image.fromarray(np.dstack([rgb, alpha]))  # RGBA


def _exif_rotated(rgb: np.ndarray) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = 6  # orientation: rotate 90 degrees clockwise to display
    return _save(Image.fromarray(rgb), "JPEG", quality=95, exif=exif)


def _sixteen_bit(rgb: np.ndarray) -> bytes:
    return cv2.imencode(".png", rgb[:, :, ::-1].astype(np.uint16) * 257)[1].tobytes()


def _palette_transparent(rgb: np.ndarray) -> bytes:
    return _save(Image.fromarray(rgb).convert("P"), "PNG", transparency=0)


# file name -> its bytes, made from the sample image's RGB pixels
MAKERS: dict[str, Callable[[np.ndarray], bytes]] = {
    "zero.png": lambda rgb: b"",
    "truncated.png": lambda rgb: (data := _save(Image.fromarray(rgb), "PNG"))[: len(data) // 2],
    "text.png": lambda rgb: b"not an image, despite its name\n",
    "small.png": lambda rgb: _save(Image.fromarray(rgb).resize((256, 256)), "PNG"),
    "bomb.png": lambda rgb: _bomb(40000),
    "bomb_8k.png": lambda rgb: _bomb(8000),
    "gray.png": lambda rgb: _save(Image.fromarray(rgb).convert("L"), "PNG"),
    "rgba.png": lambda rgb: _save(_rgba(rgb), "PNG"),
    "palette.png": lambda rgb: _save(Image.fromarray(rgb).convert("P"), "PNG"),
    "palette_transparent.png": _palette_transparent,
    "16bit.png": _sixteen_bit,
    "cmyk.jpg": lambda rgb: _save(Image.fromarray(rgb).convert("CMYK"), "JPEG", quality=95),
    "exif6.jpg": _exif_rotated,
}

# what read_rgb_checked says of each refused file (after "<path>: ")
REFUSED = {
    "zero.png": f"empty file (0 bytes); {RESAVE}",
    "truncated.png": "corrupt, truncated or unsupported PNG data (",
    "text.png": f"corrupt, truncated or not an image: no readable image header (PNG, JPEG, BMP, WebP) in its 31 bytes; "
                f"{RESAVE}",
    "small.png": "wrong size: got 256x256, expected 512x512; re-save it at 512x512",
    "bomb.png": f"too large: the header declares over 178,956,970 pixels; faceboard refuses images over "
                f"{MAX_PIXELS:,} pixels (MAX_PIXELS) before decoding them; {RESAVE}",
    "bomb_8k.png": "too large: the header declares 8000x8000 = 64,000,000 pixels; faceboard refuses images over "
                   "50,000,000 pixels (MAX_PIXELS)",
}


def _expected(name: str, path: Path, rgb: np.ndarray) -> tuple[np.ndarray, int]:
    """The pixels a normalised file must read as, and the largest difference allowed (lossy formats)."""
    image = Image.open(path)
    if name == "gray.png":
        return np.repeat(np.asarray(image)[:, :, None], 3, axis=2), 0
    if name in ("rgba.png", "16bit.png"):
        return rgb, 0  # alpha dropped, not composited; x * 257 back to x exactly
    if name in ("palette.png", "palette_transparent.png"):
        return np.asarray(image.convert("RGB")), 0  # the palette's colours, transparency dropped
    return np.asarray(image.convert("RGB")), 1  # JPEG: Pillow's CMYK conversion; stored order, EXIF ignored


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return read_rgb(SUBMISSION.joinpath(*SOURCE).with_suffix(".png"))


@pytest.fixture(scope="module")
def corpus(tmp_path_factory, rgb) -> Path:
    folder = tmp_path_factory.mktemp("corpus")
    for name, make in MAKERS.items():
        (folder / name).write_bytes(make(rgb))
    return folder


@pytest.mark.parametrize("name", REFUSED)
def test_a_refused_file_says_which_why_and_what_to_do(corpus, name):
    path = corpus / name
    with pytest.raises(ImageError) as caught:
        read_rgb_checked(path)
    assert str(caught.value).startswith(f"{path}: {REFUSED[name]}")


def test_a_bomb_is_small_on_disk(corpus):
    assert (corpus / "bomb.png").stat().st_size < 500_000 and (corpus / "bomb_8k.png").stat().st_size < 50_000


@pytest.mark.parametrize("name", sorted(set(MAKERS) - set(REFUSED)))
def test_a_normalised_file_reads_as_documented(corpus, rgb, name):
    out = read_rgb_checked(corpus / name)
    expected, tolerance = _expected(name, corpus / name, rgb)
    assert out.dtype == np.uint8 and out.shape == (512, 512, 3) and out.flags.c_contiguous
    assert np.abs(out.astype(int) - expected).max() <= tolerance


def test_cmyk_colours_are_right(corpus, rgb):
    out = read_rgb(corpus / "cmyk.jpg")  # not inverted (Adobe CMYK) and not swapped: close to the RGB it came from
    assert np.abs(out.astype(int) - rgb).mean() < 2


def test_exif_orientation_is_ignored(corpus, rgb):
    out = read_rgb(corpus / "exif6.jpg").astype(int)
    rotated = np.asarray(ImageOps.exif_transpose(Image.open(corpus / "exif6.jpg")).convert("RGB")).astype(int)
    assert np.abs(out - rgb).mean() < 2 < np.abs(out - rotated).mean()


# ---- through `faceboard score`: an LQ set and a submission holding every case under its own name in CelebA

SUBSET = SOURCE[0]
GOOD = {"face 01": "163639", "visage_é": "162798", "顔": "163639",  # case -> the sample image it copies
        "rgba": SOURCE[1], "16bit": SOURCE[1]}  # normalised without a change: the same values as their source
ACCEPTED = ("gray", "palette", "palette_transparent", "cmyk", "exif6")  # normalised: scored, values of their own
OUTPUT_FAILURES = {"zero": REFUSED["zero.png"], "truncated": REFUSED["truncated.png"], "text": "not an image",
                   "small": REFUSED["small.png"], "bomb": "too large", "missing": "no output",
                   "twice": "same image under several extensions"}
LANDMARK_FAILURES = {"no landmark row": "no landmarks for CelebA/no landmark row: the landmark CSV has no row",
                     "eye at 900": "landmarks for CelebA/eye at 900 outside its 512x512 image (left_eye_x=900)",
                     "nose at nan": "non-numeric or missing landmarks for CelebA/nose at nan"}


def _bad_set(root: Path, corpus: Path) -> tuple[Path, Path, Path]:
    """The LQ folder, landmark CSV and submission: each case's LQ input and landmarks are its source's, its
    output the corpus file of its name, else a copy of the source's output."""
    lq, team = root / "lq", root / "team"
    (lq / SUBSET).mkdir(parents=True)
    (team / SUBSET).mkdir(parents=True)
    with open(SAMPLE / "landmarks.csv", newline="") as f:
        sample_rows = {row["filename"]: row for row in csv.DictReader(f) if row["dataset"] == SUBSET}
    rows = []
    for name in (*GOOD, *ACCEPTED, *OUTPUT_FAILURES, *LANDMARK_FAILURES):
        source = GOOD.get(name, SOURCE[1])
        shutil.copy(SAMPLE / "lq" / SUBSET / f"{source}.png", lq / SUBSET / f"{name}.png")
        row = {**sample_rows[source], "filename": name}
        row |= {"eye at 900": {"left_eye_x": "900"}, "nose at nan": {"nose_y": "nan"}}.get(name, {})
        rows += [] if name == "no landmark row" else [row]
        made = [file for file in MAKERS if file.split(".")[0] == name]
        output = corpus / made[0] if made else SUBMISSION / SUBSET / f"{source}.png"
        if name != "missing":
            shutil.copy(output, team / SUBSET / f"{name}.png")  # a JPEG too: the format is read from the content
    shutil.copy(corpus / "exif6.jpg", team / SUBSET / "twice.jpg")
    shutil.copy(SUBMISSION / SUBSET / f"{SOURCE[1]}.png", team / SUBSET / "extra.png")
    marks = root / "landmarks.csv"
    with open(marks, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return lq, marks, team


class Scored(NamedTuple):
    clean: pd.DataFrame  # per-image table of the clean sample, by image
    bad: pd.DataFrame  # per-image table of the bad set, by image
    stdout: str  # of the bad set's run
    altered: dict[str, list[str]]  # files of the earlier folders that the bad run changed
    team: Path  # the bad submission


@pytest.fixture(scope="module")
def scored(tmp_path_factory, corpus) -> Scored:
    """A clean run of the sample, then the bad set scored."""
    root = tmp_path_factory.mktemp("inputs")
    clean = root / "clean"
    run_cli("score", str(SUBMISSION), "--lq", str(SAMPLE / "lq"), "--landmarks", str(SAMPLE / "landmarks.csv"),
            "--metrics", "niqe", "--out", str(clean))
    lq, marks, team = _bad_set(root / "bad", corpus)
    before = {folder: checksums(folder) for folder in (clean, lq, team)}
    done = run_cli("score", str(team), "--lq", str(lq), "--landmarks", str(marks), "--metrics", "niqe",
                   "--out", str(root / "out"))
    return Scored(pd.read_parquet(clean / "per_image.parquet").set_index("image"),
                  pd.read_parquet(root / "out" / "per_image.parquet").set_index("image"), done.stdout,
                  {folder.name: unchanged(digests, folder) for folder, digests in before.items()}, team)


def test_no_earlier_file_is_altered(scored):
    assert scored.altered == {"clean": [], "lq": [], "team": []}


@pytest.mark.parametrize("name", sorted(GOOD))
def test_a_good_image_scores_as_in_the_clean_run(scored, name):
    row, expected = scored.bad.loc[name], scored.clean.loc[GOOD[name]]
    assert row["status"] == "ok" and not row["error"]
    assert (row["niqe"], row["id_sim"], row["id_pass"]) == (expected["niqe"], expected["id_sim"], expected["id_pass"])


@pytest.mark.parametrize("name", ACCEPTED)
def test_a_normalised_output_is_scored(scored, name):
    row = scored.bad.loc[name]
    assert row["status"] == "ok" and np.isfinite(row["niqe"]) and np.isfinite(row["id_sim"])


@pytest.mark.parametrize(("name", "why"), sorted({**OUTPUT_FAILURES, **LANDMARK_FAILURES}.items()))
def test_a_bad_image_fails_alone_by_name_with_its_reason(scored, name, why):
    row = scored.bad.loc[name]
    assert row["status"] == "failed" and why in row["error"] and not row["id_pass"]
    if name not in ("missing", "twice", *LANDMARK_FAILURES):
        assert row["error"].startswith(f"{scored.team / SUBSET / name}.png: ")  # names the file


def test_the_report_lists_missing_extra_and_duplicate_files(scored):
    assert len(scored.bad) == len(GOOD) + len(ACCEPTED) + len(OUTPUT_FAILURES) + len(LANDMARK_FAILURES)
    assert "missing (1): CelebA/missing" in scored.stdout and "extra (1): CelebA/extra" in scored.stdout
    assert "duplicates (1): CelebA/twice" in scored.stdout
    twice = scored.team / SUBSET / "twice"
    assert scored.bad.loc["twice", "error"].endswith(f"{twice}.jpg, {twice}.png; keep exactly one")


def test_without_lq_a_duplicate_is_a_failed_row(tmp_path, corpus):
    team = tmp_path / "team"
    team.mkdir()
    shutil.copy(SUBMISSION / SUBSET / "162798.png", team / "a.png")
    shutil.copy(corpus / "exif6.jpg", team / "a.jpg")
    shutil.copy(SUBMISSION / SUBSET / "163639.png", team / "b.png")
    run_cli("score", str(team), "--metrics", "niqe", "--out", str(tmp_path / "out"))
    table = pd.read_parquet(tmp_path / "out" / "per_image.parquet").set_index("image")
    assert table.loc["b", "status"] == "ok" and table.loc["a", "status"] == "failed"
    assert "same image under several extensions" in table.loc["a", "error"]
    assert json.loads((tmp_path / "out" / "report.json").read_text())["duplicates"] == ["all/a"]
