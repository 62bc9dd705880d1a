"""The Prefect task runner that runs a flow's shards, from params.yaml `execution`.

One worker: a thread of this process, shard after shard (models stay loaded from one shard to the next).
Several: worker processes, so that each has its own loaded models and random generators (a method's shard
seeds the process-global torch/NumPy generators), on this machine or on a `dask.distributed` cluster.
"""

from __future__ import annotations

import os

from prefect.task_runners import ProcessPoolTaskRunner, TaskRunner, ThreadPoolTaskRunner

from faceboard.config import ExecutionConfig


def task_runner(execution: ExecutionConfig) -> TaskRunner:
    if execution.runner == "dask":
        from prefect_dask import DaskTaskRunner

        if execution.dask_address:
            return DaskTaskRunner(address=execution.dask_address)
        return DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
            "n_workers": execution.workers, "threads_per_worker": 1, "processes": True, "dashboard_address": None})
    if execution.workers == 1:
        return ThreadPoolTaskRunner(max_workers=1)
    return ProcessPoolTaskRunner(max_workers=execution.workers)


def lanes_per_worker(execution: ExecutionConfig) -> int:
    """CPU compute threads each worker's scorer uses: this machine's cores shared among its workers."""
    return max(1, len(os.sched_getaffinity(0)) // execution.workers)
