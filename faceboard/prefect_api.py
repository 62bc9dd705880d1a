"""The Prefect API the flows report to.

- PREFECT_API_URL, when set: that server.
- Otherwise faceboard's local server (faceboard/prefect_server.py), shared by consecutive commands: the stage
  processes of a `dvc repro`, one `faceboard score` after another. Its address goes into PREFECT_API_URL
  before Prefect is imported, so child processes (DVC's stages, worker processes) use it too.
- With FACEBOARD_PREFECT=temporary, or when Prefect is already imported: Prefect's own temporary server,
  one per process.

`start_early()` finds or starts the server at once, so that a start overlaps with importing torch and
loading models; `ready()` must be called before the first flow runs.
"""

from __future__ import annotations

import os
import sys
import threading

_started: dict[str, object] = {}


def start_early() -> None:
    """Find or start the server the flows of this process will report to (no-op with PREFECT_API_URL set)."""
    if os.environ.get("PREFECT_API_URL") or _started:
        return
    if os.environ.get("FACEBOARD_PREFECT") == "temporary" or "prefect" in sys.modules:
        _start_temporary()
        return
    from faceboard import prefect_server

    url = prefect_server.ensure()
    os.environ["PREFECT_API_URL"] = url
    _started["shared"] = url
    prefect_server.hold()


def ready() -> None:
    """Wait until the server found or started by `start_early` answers (no-op when none was)."""
    if "shared" in _started:
        from faceboard import prefect_server

        prefect_server.wait(str(_started["shared"]))
    thread = _started.get("thread")
    if isinstance(thread, threading.Thread):
        thread.join()
    if "error" in _started:
        raise RuntimeError(f"the temporary Prefect server did not start: {_started['error']}")


def _start_temporary() -> None:
    """Prefect's temporary server, started on a thread (its import and start overlap with other work)."""
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
