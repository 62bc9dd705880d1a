"""The checksum helper the fault suite relies on can tell an altered or lost file."""

from tests.faults.snapshot import checksums, unchanged


def test_unchanged_names_altered_and_lost_files_only(tmp_path):
    (tmp_path / "a").write_bytes(b"1")
    (tmp_path / "d").mkdir()
    (tmp_path / "d" / "b").write_bytes(b"2")
    (tmp_path / "c").write_bytes(b"3")
    before = checksums(tmp_path)
    assert unchanged(before, tmp_path) == []
    (tmp_path / "a").write_bytes(b"changed")
    (tmp_path / "d" / "b").unlink()
    (tmp_path / "new").write_bytes(b"added later: not a loss")
    assert unchanged(before, tmp_path) == ["a", "d/b"]
