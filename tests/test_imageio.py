"""faceboard.imageio: strict decoding, normalisation to uint8 RGB, atomic PNG writes."""

from __future__ import annotations

import hashlib
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image

from faceboard.files import sha256_file
from faceboard.imageio import ImageError, read_rgb, read_rgb_checked, write_png_atomic

SAMPLE = (
    Path(__file__).resolve().parents[1]
    / "data/samples/ntire2025-val/lq/CelebChild-Test/149_Kristen Bell_00.png"
)


@pytest.fixture(scope="module")
def rgb() -> np.ndarray:
    return np.asarray(Image.open(SAMPLE).convert("RGB"))


def _save(path: Path, image: Image.Image, **kwargs: object) -> Path:
    image.save(path, **kwargs)
    return path


def test_reads_real_sample_with_space_in_name(rgb: np.ndarray) -> None:
    out = read_rgb(SAMPLE)
    assert out.dtype == np.uint8 and out.shape == (512, 512, 3) and out.flags.c_contiguous
    np.testing.assert_array_equal(out, rgb)  # RGB order, not OpenCV's BGR


def test_non_ascii_path_with_spaces(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "dir with space" / "Zoë Saldaña 01.png"
    write_png_atomic(path, rgb)
    np.testing.assert_array_equal(read_rgb(path), rgb)


@pytest.mark.parametrize(
    ("fmt", "suffix", "lossless"),
    [("PNG", ".png", True), ("BMP", ".bmp", True), ("WEBP", ".webp", False), ("JPEG", ".jpg", False)],
)
def test_formats(tmp_path: Path, rgb: np.ndarray, fmt: str, suffix: str, lossless: bool) -> None:
    out = read_rgb(_save(tmp_path / f"x{suffix}", Image.fromarray(rgb), format=fmt, quality=95))
    assert out.shape == (512, 512, 3) and out.dtype == np.uint8 and out.flags.c_contiguous
    if lossless:
        np.testing.assert_array_equal(out, rgb)
    else:  # lossy, but colours must not be swapped: compare channel means
        np.testing.assert_allclose(out.mean(axis=(0, 1)), rgb.mean(axis=(0, 1)), atol=2)


def test_uppercase_extension(tmp_path: Path, rgb: np.ndarray) -> None:
    np.testing.assert_array_equal(
        read_rgb(_save(tmp_path / "X.PNG", Image.fromarray(rgb), format="PNG")), rgb
    )


def test_grayscale_replicated(tmp_path: Path, rgb: np.ndarray) -> None:
    gray = Image.fromarray(rgb).convert("L")
    out = read_rgb(_save(tmp_path / "g.png", gray))
    assert out.shape == (512, 512, 3)
    for channel in range(3):
        np.testing.assert_array_equal(out[:, :, channel], np.asarray(gray))


@pytest.mark.parametrize("mode", ["RGBA", "LA"])
def test_alpha_dropped(tmp_path: Path, rgb: np.ndarray, mode: str) -> None:
    image = Image.fromarray(rgb).convert(mode)
    alpha = np.zeros((512, 512), np.uint8)  # fully transparent: compositing would give black
    image.putalpha(Image.fromarray(alpha))
    out = read_rgb(_save(tmp_path / "a.png", image))
    expected = np.asarray(image.convert("RGB"))
    np.testing.assert_array_equal(out, expected)
    assert out.any()


def test_palette_expanded(tmp_path: Path, rgb: np.ndarray) -> None:
    image = Image.fromarray(rgb).convert("P")
    np.testing.assert_array_equal(
        read_rgb(_save(tmp_path / "p.png", image)), np.asarray(image.convert("RGB"))
    )


def test_16bit_scaled_with_rounding(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "deep.png"
    assert cv2.imwrite(str(path), rgb[:, :, ::-1].astype(np.uint16) * 257)
    out = read_rgb(path)
    assert out.dtype == np.uint8
    assert np.abs(out.astype(int) - rgb).max() <= 1
    np.testing.assert_array_equal(out, rgb)  # x * 257 / 257 rounds back exactly


def test_16bit_rounding_not_truncation(tmp_path: Path) -> None:
    path = tmp_path / "ramp.png"
    values = np.array([[0, 128, 129, 385, 386, 65535]], np.uint16)  # 128/257 < .5, 129/257 > .5, ...
    assert cv2.imwrite(str(path), values)
    np.testing.assert_array_equal(read_rgb(path)[0, :, 0], [0, 0, 1, 1, 2, 255])


def test_float_rejected(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "float.png"  # TIFF bytes under a .png name: decoded by content, then refused
    path.write_bytes(cv2.imencode(".tiff", rgb[:, :, 0].astype(np.float32) / 255)[1].tobytes())  # Pillow reads it
    with pytest.raises(ImageError, match="float.png: unsupported pixel type float32"):
        read_rgb(path)


def test_missing(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match=r"nope\.png: missing"):
        read_rgb(tmp_path / "nope.png")


def test_directory(tmp_path: Path) -> None:
    with pytest.raises(ImageError, match="not a file"):
        read_rgb(tmp_path)


def test_zero_bytes(tmp_path: Path) -> None:
    path = tmp_path / "empty.png"
    path.touch()
    with pytest.raises(ImageError, match=r"empty\.png: empty file"):
        read_rgb(path)


def test_random_bytes(tmp_path: Path) -> None:
    path = tmp_path / "noise.png"
    path.write_bytes(np.random.default_rng(0).integers(0, 256, 4096, dtype=np.uint8).tobytes())
    with pytest.raises(ImageError, match=r"noise\.png: corrupt"):
        read_rgb(path)


def _encode(rgb: np.ndarray, ext: str, *params: int) -> bytes:
    ok, data = cv2.imencode(ext, np.ascontiguousarray(rgb[:, :, ::-1]), list(params))
    assert ok
    return data.tobytes()


@pytest.mark.parametrize(
    ("ext", "params"),
    [(".png", ()), (".jpg", ()), (".jpg", (cv2.IMWRITE_JPEG_PROGRESSIVE, 1)), (".webp", ()), (".bmp", ())],
)
@pytest.mark.parametrize("keep", [0.5, 0.99, -2])  # half, nearly all, all but the last two bytes
def test_truncated_rejected(
    tmp_path: Path, rgb: np.ndarray, ext: str, params: tuple[int, ...], keep: float
) -> None:
    data = _encode(rgb, ext, *params)
    cut = data[: int(len(data) * keep)] if keep > 0 else data[: int(keep)]
    path = tmp_path / f"cut{ext}"
    path.write_bytes(cut)
    with pytest.raises(ImageError, match=rf"cut\{ext}: corrupt, truncated"):
        read_rgb(path)


def test_png_without_iend_rejected(tmp_path: Path, rgb: np.ndarray) -> None:
    data = _encode(rgb, ".png")  # Pillow's load() accepts this one; OpenCV does not
    path = tmp_path / "noend.png"
    path.write_bytes(data[: data.rfind(b"IEND") - 4])
    with pytest.raises(ImageError, match="truncated"):
        read_rgb(path)


def test_checked_size(tmp_path: Path, rgb: np.ndarray) -> None:
    assert read_rgb_checked(SAMPLE).shape == (512, 512, 3)
    small = _save(tmp_path / "small.png", Image.fromarray(rgb).resize((256, 128)))
    with pytest.raises(ImageError, match=r"small\.png: wrong size: got 256x128, expected 512x512"):
        read_rgb_checked(small)
    assert read_rgb_checked(small, size=(256, 128)).shape == (128, 256, 3)


def test_write_png_atomic(tmp_path: Path, rgb: np.ndarray) -> None:
    path = tmp_path / "a" / "b" / "out.png"
    write_png_atomic(path, rgb)
    write_png_atomic(path, rgb[::-1])  # overwrite in place
    np.testing.assert_array_equal(np.asarray(Image.open(path)), rgb[::-1])
    assert sorted(p.name for p in path.parent.iterdir()) == ["out.png"]  # no temp file left


@pytest.mark.parametrize(
    "bad",
    [np.zeros((4, 4), np.uint8), np.zeros((4, 4, 4), np.uint8), np.zeros((4, 4, 3), np.float32), [[0, 0, 0]]],
)
def test_write_png_atomic_validates(tmp_path: Path, bad: object) -> None:
    with pytest.raises(ImageError, match=r"out\.png: expected a uint8 HxWx3"):
        write_png_atomic(tmp_path / "out.png", bad)  # type: ignore[arg-type]
    assert not list(tmp_path.iterdir())


def test_write_png_atomic_needs_png_suffix(tmp_path: Path, rgb: np.ndarray) -> None:
    with pytest.raises(ImageError, match=r"\.png path"):
        write_png_atomic(tmp_path / "out.jpg", rgb)


def test_sha256_file() -> None:
    assert sha256_file(SAMPLE) == hashlib.sha256(SAMPLE.read_bytes()).hexdigest()
