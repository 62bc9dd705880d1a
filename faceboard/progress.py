"""Progress of long loops: a live bar on a terminal, and one summary line per shard in any log."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from tqdm import tqdm


@contextmanager
def progress(total: int, desc: str) -> Iterator[Callable[[int], None]]:
    """Yield `advance(n_images)`; print `desc: N images in S s` when the block ends."""
    start = time.perf_counter()
    with tqdm(total=total, desc=desc, unit="img", file=sys.stderr, leave=False,
              disable=not sys.stderr.isatty()) as bar:
        yield bar.update
    print(f"{desc}: {total} images in {time.perf_counter() - start:.1f} s", file=sys.stderr, flush=True)
