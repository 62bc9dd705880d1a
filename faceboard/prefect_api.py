"""The Prefect API the flows report to: the server in PREFECT_API_URL, else Prefect's temporary one.

Prefect starts its temporary server (a subprocess) at a process's first flow and waits for it, several
seconds on a small machine. `start_early()` starts it on a thread at once, so that the wait overlaps with
importing torch and loading models; `ready()` must be called before the first flow runs.
"""

from __future__ import annotations

import os
import threading

_started: dict[str, object] = {}


def start_early() -> None:
    """Start the temporary server in the background when flows will need one (no PREFECT_API_URL set)."""
    if os.environ.get("PREFECT_API_URL") or "thread" in _started:
        return

    def start() -> None:
        try:
            from prefect.server.api.server import SubprocessASGIServer
            from prefect.settings import (
                PREFECT_API_URL,
                PREFECT_SERVER_EPHEMERAL_ENABLED,
            )

            if not PREFECT_API_URL.value() and PREFECT_SERVER_EPHEMERAL_ENABLED.value():
                SubprocessASGIServer().start()
        except BaseException as err:  # noqa: BLE001 - raised again by ready()
            _started["error"] = err

    thread = threading.Thread(target=start, name="faceboard-prefect-api", daemon=True)
    _started["thread"] = thread
    thread.start()


def ready() -> None:
    """Wait until the server started by `start_early` answers (no-op when none was started)."""
    thread = _started.get("thread")
    if isinstance(thread, threading.Thread):
        thread.join()
    if "error" in _started:
        raise RuntimeError(f"the temporary Prefect server did not start: {_started['error']}")
