"""Progress bars for long loops: live on a terminal, a line every few seconds in logs."""

from __future__ import annotations

import sys
from collections.abc import Iterable, Iterator
from typing import TypeVar

from tqdm import tqdm

T = TypeVar("T")


def progress(items: Iterable[T], desc: str, total: int | None = None) -> Iterator[T]:
    interactive = sys.stderr.isatty()
    return iter(tqdm(items, desc=desc, total=total, unit="img", file=sys.stderr, dynamic_ncols=interactive,
                     mininterval=0.5 if interactive else 10.0, leave=interactive))
