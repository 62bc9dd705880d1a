"""Resumable, verified downloads: `<target>.part` grows across attempts, the target appears only when
its sha256 checks out. Used for weight files and datasets alike.
"""

from __future__ import annotations

import os
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from faceboard.files import sha256_file

CHUNK = 1 << 20


class DownloadError(RuntimeError):
    """A download failed; the message names the URL and where to put the file by hand."""


def download(url: str, target: Path, check: Callable[[str], bool] | None = None, timeout: float = 30.0) -> Path:
    """Fetch `url` into `target`, resuming a previous `.part`; `check(sha256)` must accept the result."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout) as response:
            if have and response.status != 206:  # server ignored the range: start over
                have = 0
            total = _total(response, have)
            with open(part, "ab" if have else "wb") as out, tqdm(
                total=total, initial=have, unit="B", unit_scale=True, desc=target.name, leave=False
            ) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
    except urllib.error.HTTPError as err:
        if err.code == 416 and have:  # the .part is already complete
            pass
        else:
            raise DownloadError(_hint(url, target, f"HTTP {err.code}")) from None
    except (urllib.error.URLError, OSError, TimeoutError) as err:
        raise DownloadError(_hint(url, target, str(getattr(err, "reason", err)))) from None
    digest = sha256_file(part)
    if check is not None and not check(digest):
        part.unlink()
        raise DownloadError(f"{url}: checksum mismatch (sha256 {digest}); the partial file was removed")
    os.replace(part, target)
    return target


def _total(response, have: int) -> int | None:
    length = response.headers.get("Content-Length")
    return int(length) + have if length is not None else None


def _hint(url: str, target: Path, why: str) -> str:
    return f"could not download {url} ({why}). Download it by hand and place it at {target}"
