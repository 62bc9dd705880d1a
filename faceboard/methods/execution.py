"""Running a method: its device, seeds, one model load, and a watchdog for hangs (GPU turns: tasks/gpu.py).

A python or chain method runs through a *handler* built once per worker from a Job:
`handler(images) -> (outputs, stages_ran)` (stages_ran: per image, the stages that ran; a chain's from
faceboard/methods/chain.py). A team's code (`ntire`) never runs here: faceboard/methods/ntire.py runs it
in a process of its own.
Without a timeout the handler runs in this process and stays loaded for the next shard of the same
method (until `release()`); with `timeout_s` it runs in a spawned worker process, which is killed
when a call runs past the timeout: a hang cannot be interrupted inside a thread.
"""

from __future__ import annotations

import contextlib
import gc
import json
import multiprocessing
import random
import sys
import threading
import zlib
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from faceboard.methods import registry
from faceboard.plugins import resolve

Handler = Callable[..., Any]


@dataclass(frozen=True)
class Job:
    """Everything a worker needs to load one method (picklable)."""

    spec: registry.MethodSpec
    options: dict
    device: str
    root: Path | None = None


class MethodFailed(RuntimeError):
    """The method cannot go on in this shard: it failed to load, timed out or its worker died."""


class RemoteError(RuntimeError):
    """A call that raised inside the worker process; the message is `Type: message`."""


def describe(err: BaseException) -> str:
    """`Type: message`, the form every restore log error takes."""
    return str(err) if isinstance(err, RemoteError | MethodFailed) else f"{type(err).__name__}: {err}"


def pick_device(device: str) -> str:
    """`cpu` as is; `auto`/`cuda[:N]` resolved and checked (this imports torch)."""
    if device == "cpu":
        return device
    from faceboard.device import resolve_device

    return resolve_device(device)


def parts(spec: registry.MethodSpec, options: dict, root: Path | None) -> list[registry.MethodSpec]:
    """The registered methods a run of `spec` uses: a chain's stages, otherwise `spec` itself."""
    if spec.kind == registry.CHAIN:
        from faceboard.methods.chain import stage_specs

        return stage_specs(options, root)
    return [spec]


def missing_weights(specs: list[registry.MethodSpec]) -> list[str]:
    """`file (fix)` for every weight file the methods need that is neither here nor buildable offline."""
    from faceboard.weights.manage import status
    from faceboard.weights.registry import get

    missing = []
    for name in sorted({w for spec in specs for w in spec.weights}):
        weight = get(name)
        if not weight.present() and not weight.provision:
            missing.append(f"{weight.file_name} ({status(weight).fix})")
    return missing


def shard_seed(seed: int, subset: str) -> int:
    """The seed of one shard: stable across runs and independent of the order shards run in."""
    return zlib.crc32(f"{seed}/{subset}".encode())


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and (when loaded) torch's global generators."""
    random.seed(seed)
    np.random.seed(seed)
    if "torch" in sys.modules:
        sys.modules["torch"].manual_seed(seed)


def load(job: Job) -> Handler:
    """Build the method's handler; its model loads here, once."""
    if job.root is not None:
        from faceboard.methods.contrib import importable

        importable(job.root)
    spec = job.spec
    if spec.kind == registry.CHAIN:
        return resolve(spec.entry)(job.options, job.device, job.root)
    if spec.kind != registry.PYTHON:
        raise ValueError(f"method type {spec.name!r} is a {spec.kind}: nothing to run")
    restorer = resolve(spec.entry)(job.options, job.device)
    return lambda images: (restorer(images), [[spec.name] for _ in images])


@contextlib.contextmanager
def runner(job: Job, timeout_s: float | None, seed: int) -> Iterator[Handler]:
    """The loaded handler, seeded: in this process, or in a watched worker when `timeout_s` is set.

    Raises MethodFailed when loading fails, and (worker) when a call times out or the worker dies.
    """
    if timeout_s is None:
        try:
            handler = _loaded(job)
        except Exception as err:  # a method that cannot load fails its images, not the run
            raise MethodFailed(f"could not load the method: {describe(err)}") from err
        seed_everything(seed)
        yield handler
        return
    worker = Worker(job, timeout_s, seed)
    try:
        yield worker
    finally:
        worker.close()


_cache_lock = threading.Lock()
_cached: tuple[str, Handler] | None = None


def _loaded(job: Job) -> Handler:
    """The handler of the last job, reused while the same method runs shard after shard."""
    global _cached
    key = json.dumps([asdict(job.spec), job.options, job.device, str(job.root)], sort_keys=True, default=str)
    with _cache_lock:
        if _cached is None or _cached[0] != key:
            release()
            _cached = (key, load(job))
        return _cached[1]


def release() -> None:
    """Drop the loaded model (and the GPU memory it holds)."""
    global _cached
    _cached = None
    gc.collect()
    torch = sys.modules.get("torch")
    if torch is not None and torch.cuda.is_available():
        torch.cuda.empty_cache()


class Worker:
    """A spawned process holding one loaded handler; every call must answer within `timeout_s`."""

    def __init__(self, job: Job, timeout_s: float, seed: int) -> None:
        context = multiprocessing.get_context("spawn")
        self.timeout_s = timeout_s
        self._conn, child = context.Pipe()
        self._process = context.Process(target=_serve, args=(child, job, seed), name=f"faceboard-{job.spec.name}")
        self._process.start()
        child.close()
        try:
            self._answer(" loading the method")
        except MethodFailed:
            self.close()
            raise

    def __call__(self, *args: Any) -> Any:
        self._conn.send(args)
        return self._answer("")

    def _answer(self, doing: str) -> Any:
        if not self._conn.poll(self.timeout_s):
            self.close()
            raise MethodFailed(f"timed out after {self.timeout_s:g} s{doing}")
        try:
            status, value = self._conn.recv()
        except EOFError:
            self.close()
            raise MethodFailed(f"the worker process died (exit code {self._process.exitcode}){doing}") from None
        if status == "load failed":
            raise MethodFailed(f"could not load the method: {value}")
        if status == "failed":
            raise RemoteError(value)
        return value

    def close(self) -> None:
        if self._process.is_alive():
            self._process.kill()
        self._process.join()
        self._conn.close()


def _serve(conn, job: Job, seed: int) -> None:
    """Worker process: load once, then answer calls until the parent closes the pipe."""
    try:
        handler = load(job)
        seed_everything(seed)
    except Exception as err:  # noqa: BLE001 - reported to the parent
        conn.send(("load failed", describe(err)))
        return
    conn.send(("ok", None))
    while True:
        try:
            args = conn.recv()
        except EOFError:
            return
        try:
            conn.send(("ok", handler(*args)))
        except Exception as err:  # noqa: BLE001 - reported to the parent
            conn.send(("failed", describe(err)))
