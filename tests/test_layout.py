"""faceboard.layout: scanning submission folders and pairing them with the expected images."""

from __future__ import annotations

from pathlib import Path

import pytest

from faceboard.layout import ImageRef, list_images, match, scan

SAMPLES = Path(__file__).resolve().parents[1] / "data/samples/ntire2025-val"


def _touch(root: Path, *names: str) -> Path:
    for name in names:
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_bytes(b"")
    return root


def _keys(refs: list[ImageRef]) -> list[tuple[str, str]]:
    return [(r.subset, r.name) for r in refs]


def test_real_sample_layout() -> None:
    refs = list_images(SAMPLES / "lq")
    assert len(refs) == 10
    assert _keys(refs) == sorted(_keys(refs))
    assert {r.subset for r in refs} == {
        "CelebA",
        "CelebChild-Test",
        "LFW-Test",
        "WebPhoto-Test",
        "Wider-Test",
    }
    kristen = next(r for r in refs if r.name == "149_Kristen Bell_00")
    assert kristen.subset == "CelebChild-Test" and kristen.path.is_file()
    result = match(refs, list_images(SAMPLES / "submissions/team15_NAFNet"))
    assert len(result.pairs) == 10 and not result.missing and not result.extra
    assert all((a.subset, a.name) == (b.subset, b.name) for a, b in result.pairs)


def test_nested(tmp_path: Path) -> None:
    _touch(
        tmp_path, "B/2.png", "A/b c.JPG", "A/a.webp", "A/notes.txt", "A/.hidden.png", ".DS_Store", "B/x.bmp"
    )
    found = scan(tmp_path)
    assert _keys(found.images) == [("A", "a"), ("A", "b c"), ("B", "2"), ("B", "x")]
    assert found.images[1].path == tmp_path / "A/b c.JPG"
    assert found.ignored == [tmp_path / "A/notes.txt"]
    assert found.duplicates == []


def test_flat(tmp_path: Path) -> None:
    _touch(tmp_path, "0020.png", "00000_00.jpeg", "readme.md", ".git/config")
    found = scan(tmp_path)
    assert _keys(found.images) == [("all", "00000_00"), ("all", "0020")]
    assert found.ignored == [tmp_path / "readme.md"]


def test_too_deep_is_ignored(tmp_path: Path) -> None:
    _touch(tmp_path, "A/1.png", "A/deeper/2.png")
    found = scan(tmp_path)
    assert _keys(found.images) == [("A", "1")]
    assert found.ignored == [tmp_path / "A/deeper"]


def test_mixed_layout_rejected(tmp_path: Path) -> None:
    _touch(tmp_path, "top.png", "CelebA/1.png")
    with pytest.raises(ValueError, match=r"mixed layout.*'top\.png'.*\['CelebA'\]"):
        scan(tmp_path)


def test_folder_without_images_is_not_mixed(tmp_path: Path) -> None:
    _touch(tmp_path, "1.png", "docs/readme.txt")
    assert _keys(scan(tmp_path).images) == [("all", "1")]


def test_duplicates(tmp_path: Path) -> None:
    _touch(tmp_path, "A/1.png", "A/1.jpg", "A/2.png")
    found = scan(tmp_path)
    assert found.duplicates == ["A/1"]
    assert _keys(found.images) == [("A", "2")]
    with pytest.raises(ValueError, match="several extensions: A/1; keep exactly one"):
        list_images(tmp_path)
    why = f"same image under several extensions: {tmp_path / 'A/1.jpg'}, {tmp_path / 'A/1.png'}; keep exactly one"
    assert found.clash_errors() == {("A", "1"): why}
    expected = [ImageRef("A", "1", Path("lq/A/1.png")), ImageRef("A", "2", Path("lq/A/2.png"))]
    assert found.clash_errors(expected) == {("A", "1"): why}


def test_duplicates_of_a_flat_submission(tmp_path: Path) -> None:
    _touch(tmp_path, "1.png", "1.webp")
    expected = [ImageRef("A", "1", Path("lq/A/1.png")), ImageRef("B", "1", Path("lq/B/1.png"))]
    assert list(scan(tmp_path).clash_errors(expected)) == [("A", "1"), ("B", "1")]  # by name, as match pairs


def test_not_a_folder(tmp_path: Path) -> None:
    with pytest.raises(NotADirectoryError):
        scan(tmp_path / "absent")


def _refs(*keys: str) -> list[ImageRef]:
    refs = []
    for key in keys:
        subset, _, name = key.rpartition("/")
        refs.append(ImageRef(subset or "all", name, Path(key + ".png")))
    return refs


def test_match_missing_and_extra() -> None:
    expected = _refs("B/1", "A/2", "A/1")
    result = match(expected, _refs("A/1", "B/1", "C/9", "A/3"))
    assert [(_keys([a]), _keys([b])) for a, b in result.pairs] == [
        ([("A", "1")], [("A", "1")]),
        ([("B", "1")], [("B", "1")]),
    ]
    assert _keys(result.missing) == [("A", "2")]
    assert _keys(result.extra) == [("A", "3"), ("C", "9")]


def test_match_flat_submission_by_name() -> None:
    result = match(_refs("A/1", "B/2", "B/3"), _refs("1", "2", "9"))
    assert [(a.subset, b.subset, a.name) for a, b in result.pairs] == [("A", "all", "1"), ("B", "all", "2")]
    assert _keys(result.missing) == [("B", "3")]
    assert _keys(result.extra) == [("all", "9")]


def test_match_flat_submission_name_clash() -> None:
    with pytest.raises(ValueError, match=r"by name: '1' is both A/1\.png and B/1\.png"):
        match(_refs("A/1", "B/1"), _refs("1"))


def test_match_flat_against_flat() -> None:
    result = match(_refs("1", "2"), _refs("2"))
    assert _keys(result.missing) == [("all", "1")] and len(result.pairs) == 1


def test_match_empty_submission() -> None:
    result = match(_refs("A/1"), [])
    assert not result.pairs and _keys(result.missing) == [("A", "1")] and not result.extra
