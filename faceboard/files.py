"""Small file primitives shared by every stage: atomic writes and content hashes."""

from __future__ import annotations

import hashlib
import json
import os
import secrets
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    import pandas as pd

PARTIAL_WRITE = ".*.tmp"  # the temp files of write_bytes_atomic: `.<name>.<random hex>.tmp`


def write_bytes_atomic(path: str | os.PathLike[str], data: bytes) -> None:
    """Write `data` to a hidden temp file beside `path` (parents created), fsync, then os.replace."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    try:
        # os.open with 0o666 lets the umask apply, as for an ordinary file (mkstemp would give 0o600).
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException as err:
        tmp.unlink(missing_ok=True)
        # a failed write (a full disk, say) is named after the file being written, not its temp file
        if isinstance(err, OSError) and err.filename in (None, str(tmp)):
            raise OSError(err.errno, err.strerror, str(path)) from err
        raise


def write_json_atomic(path: str | os.PathLike[str], record: Any) -> None:
    """`record` as indented, key-sorted JSON with a final newline, written atomically."""
    write_bytes_atomic(path, (json.dumps(record, indent=1, sort_keys=True, default=str) + "\n").encode())


def write_parquet_atomic(path: str | os.PathLike[str], frame: pd.DataFrame) -> None:
    """A DataFrame (without its index) as Parquet, written atomically."""
    write_bytes_atomic(path, frame.to_parquet(index=False))


def remove_partial_writes(folder: str | os.PathLike[str]) -> None:
    """Delete, anywhere under `folder`, the temp files of atomic writes a killed process left behind: an
    output folder then holds only finished files, as after an uninterrupted run."""
    for leftover in Path(folder).rglob(PARTIAL_WRITE):
        leftover.unlink(missing_ok=True)


def sha256_file(path: str | os.PathLike[str]) -> str:
    """Hex SHA-256 of a file's bytes; remembered per (path, size, mtime) so big weights hash once."""
    stat = os.stat(path)
    return _sha256(os.fspath(path), stat.st_size, stat.st_mtime_ns)


@lru_cache(maxsize=4096)
def _sha256(path: str, size: int, mtime_ns: int) -> str:
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()
