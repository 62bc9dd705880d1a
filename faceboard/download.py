"""Resumable, verified downloads: `<target>.part` grows across attempts, the target appears only when
its sha256 checks out. Used for weight files and datasets alike.

`timeout` bounds both the connection and every read, so an unreachable or stalled server fails in
seconds instead of hanging. A failure to reach the server (no network, refused, timed out, cut
mid-transfer) is `Unreachable`; what was received stays in the `.part` for the next attempt. A transient
one (cut mid-transfer, timed out, reset) is retried at once, `retries` times with a doubling delay, resuming
from the `.part`; no network or a refused connection fails at once (offline machines fall back quickly).
"""

from __future__ import annotations

import http.client
import os
import ssl
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable
from pathlib import Path

from tqdm import tqdm

from faceboard.files import sha256_file

CHUNK = 1 << 20
TIMEOUT = 15.0
RETRIES = 3
RETRY_DELAY_S = 1.0  # before the first retry; doubles each time


class DownloadError(RuntimeError):
    """A download failed; the message names the URL and where to put the file by hand."""


class Unreachable(DownloadError):
    """The server could not be reached or the transfer broke off: offline, refused, timed out."""

    def __init__(self, message: str, transient: bool = False) -> None:
        super().__init__(message)
        self.transient = transient  # broke off, timed out or reset: worth trying again


def download(url: str, target: Path, check: Callable[[str], bool] | None = None, timeout: float | None = None,
             sha256: str | None = None, progress: bool = True, retries: int | None = None) -> Path:
    """Fetch `url` into `target`, resuming a previous `.part`; the result must match `sha256` (when
    given) and be accepted by `check(sha256)`. `timeout` defaults to TIMEOUT; `progress=False` hides
    the byte bar (shown on a terminal only); a transient failure is retried `retries` (RETRIES) times."""
    retries = RETRIES if retries is None else retries
    attempt = 0
    while True:
        try:
            return _attempt(url, Path(target), check, timeout, sha256, progress)
        except Unreachable as err:
            if not err.transient or attempt == retries:
                raise
            delay = RETRY_DELAY_S * 2 ** attempt
            attempt += 1
            print(f"{url}: {err}; retrying in {delay:g} s ({attempt} of {retries})", file=sys.stderr, flush=True)
            time.sleep(delay)


def _attempt(url: str, target: Path, check: Callable[[str], bool] | None, timeout: float | None,
             sha256: str | None, progress: bool) -> Path:
    target.parent.mkdir(parents=True, exist_ok=True)
    part = target.with_name(target.name + ".part")
    have = part.stat().st_size if part.exists() else 0
    request = urllib.request.Request(url, headers={"Range": f"bytes={have}-"} if have else {})
    try:
        with urllib.request.urlopen(request, timeout=timeout or TIMEOUT) as response:
            if have and response.status != 206:  # server ignored the range: start over
                have = 0
            total = _total(response, have)
            with open(part, "ab" if have else "wb") as out, tqdm(
                total=total, initial=have, unit="B", unit_scale=True, desc=target.name, leave=False,
                disable=not (progress and sys.stderr.isatty()),
            ) as bar:
                for block in iter(lambda: response.read(CHUNK), b""):
                    out.write(block)
                    bar.update(len(block))
            size = part.stat().st_size
            if total is not None and size < total:  # http.client returns short reads silently
                raise Unreachable(f"{url}: transfer broke off after {size} of {total} bytes; "
                                  f"run again to resume from {part}", transient=True)
    except urllib.error.HTTPError as err:
        if not (err.code == 416 and have):  # 416 with a .part: it is already complete
            raise DownloadError(_hint(url, target, f"HTTP {err.code}")) from None
    except urllib.error.URLError as err:
        if isinstance(err.reason, ssl.SSLError):
            raise DownloadError(_hint(url, target, str(err.reason))) from None
        transient = isinstance(err.reason, TimeoutError | ConnectionResetError)
        raise Unreachable(_hint(url, target, str(err.reason)), transient) from None
    except (TimeoutError, ConnectionError, http.client.HTTPException) as err:
        transient = not isinstance(err, ConnectionRefusedError)
        raise Unreachable(_hint(url, target, f"{type(err).__name__}: {err}; run again to resume"), transient) from None
    except OSError as err:
        raise DownloadError(_hint(url, target, str(err))) from None
    digest = sha256_file(part)
    if (sha256 is not None and digest != sha256) or (check is not None and not check(digest)):
        part.unlink()
        expected = f", expected {sha256}" if sha256 else ""
        raise DownloadError(f"{url}: checksum mismatch (sha256 {digest}{expected}); the partial file was removed")
    os.replace(part, target)
    return target


def _total(response, have: int) -> int | None:
    length = response.headers.get("Content-Length")
    return int(length) + have if length is not None else None


def _hint(url: str, target: Path, why: str) -> str:
    return f"could not download {url} ({why}). Download it by hand and place it at {target}"
