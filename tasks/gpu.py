"""GPU turns: shards that use one GPU take turns through a Prefect global concurrency limit.

The limit, `faceboard-gpu-<host>-<index>`, holds params.yaml `execution.gpu_slots` slots; every process
reporting to the same Prefect API (a run's worker processes, Dask workers, or separate runs against one
server) takes its turns from it. A CPU shard takes none.
"""

from __future__ import annotations

import socket
from collections.abc import Iterator
from contextlib import contextmanager

from prefect import get_client
from prefect.concurrency.sync import concurrency


def limit_name(device: str) -> str:
    return f"faceboard-gpu-{socket.gethostname()}-{device.partition(':')[2] or '0'}"


@contextmanager
def gpu_turn(device: str, slots: int = 1) -> Iterator[None]:
    """Hold one of the `slots` turns on `device` (a `cuda[:N]` device) while the block runs."""
    if not str(device).startswith("cuda"):
        yield
        return
    name = limit_name(str(device))
    with get_client(sync_client=True) as client:
        client.upsert_global_concurrency_limit_by_name(name, slots)
    with concurrency(name, occupy=1, strict=True):
        yield
