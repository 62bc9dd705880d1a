"""faceboard's local Prefect server: one `prefect server start` on 127.0.0.1, shared by consecutive commands.

Prefect's temporary server starts with each process that runs a flow and stops with it: several seconds of
two cores for every `faceboard score` and for every stage of a `dvc repro`. Instead, the first command that
needs a server starts this one (`ensure`), records its address in faceboard's cache, and every command
while it runs finds it there. Each command holds a lease on it (`hold`: a file touched every few seconds);
a watcher process stops the server once no command has held the lease for `FACEBOARD_PREFECT_IDLE_S`
seconds (default 600). Its database is Prefect's default SQLite file (PREFECT_HOME).

`python -m faceboard.prefect_server PORT` is that watcher.
"""

from __future__ import annotations

import atexit
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

from faceboard.env import cache_dir

IDLE_S = float(os.environ.get("FACEBOARD_PREFECT_IDLE_S", "600"))
START_TIMEOUT_S = 120.0
TOUCH_S = min(5.0, IDLE_S / 3)  # how often a command renews its lease


def folder() -> Path:
    path = cache_dir() / "prefect-server"
    path.mkdir(parents=True, exist_ok=True)
    return path


def ensure() -> str:
    """The API URL of the shared server: the running one, or one started now (it may still be starting:
    `wait` for it). Never blocks on the server's start."""
    from filelock import FileLock

    with FileLock(folder() / "start.lock"):
        state = _state()
        if state and (_answers(state["url"]) or _starting(state)):
            _touch()
            return state["url"]
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        _touch()
        with open(folder() / "server.log", "ab") as log:
            watcher = subprocess.Popen([sys.executable, "-m", "faceboard.prefect_server", str(port)],
                                       stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT,
                                       start_new_session=True)  # outlives this command, never its signals
        url = f"http://127.0.0.1:{port}/api"
        _write_state({"url": url, "watcher": watcher.pid, "started": time.time()})
        return url


def wait(url: str) -> None:
    """Return once the server at `url` answers; raise after START_TIMEOUT_S or when it has stopped."""
    deadline = time.monotonic() + START_TIMEOUT_S
    while not _answers(url):
        state = _state()
        if time.monotonic() > deadline or not state or state["url"] != url or not _alive(state["watcher"]):
            log = folder() / "server.log"
            tail = log.read_text(errors="replace")[-2000:] if log.is_file() else ""
            raise RuntimeError(f"faceboard's Prefect server at {url} did not start:\n{tail}")
        time.sleep(0.1)


def hold() -> None:
    """Renew this command's lease on the server while it runs, and once more at its exit."""
    def renew() -> None:
        while True:
            _touch()
            time.sleep(TOUCH_S)

    threading.Thread(target=renew, name="faceboard-prefect-lease", daemon=True).start()
    atexit.register(_touch)


def stop() -> None:
    """Stop the shared server now, if one runs (its watcher stops it and exits)."""
    state = _state()
    if state and _alive(state["watcher"]):
        os.kill(state["watcher"], signal.SIGTERM)


def _touch() -> None:
    (folder() / "lease").touch()


def _idle_s() -> float:
    try:
        return time.time() - (folder() / "lease").stat().st_mtime
    except FileNotFoundError:
        return float("inf")


def _state() -> dict | None:
    try:
        return json.loads((folder() / "server.json").read_text())
    except (FileNotFoundError, ValueError):
        return None


def _write_state(state: dict) -> None:
    path = folder() / "server.json"
    partial = path.with_suffix(".partial")
    partial.write_text(json.dumps(state))
    partial.replace(path)


def _starting(state: dict) -> bool:
    return _alive(state["watcher"]) and time.time() - state["started"] < START_TIMEOUT_S


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie (exited, not yet reaped) is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(") ")[1][0] != "Z"
    except (FileNotFoundError, IndexError):
        return True


def _answers(url: str) -> bool:
    try:  # no proxy: the server is on this machine
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}/health", timeout=1).close()
        return True
    except OSError:
        return False


def _watch(port: int) -> int:
    """Run the server until no command has held the lease for IDLE_S seconds, or until SIGTERM."""
    env = {**os.environ, "PREFECT_SERVER_ANALYTICS_ENABLED": "false", "PREFECT_UI_ENABLED": "false"}
    env.pop("PREFECT_API_URL", None)
    command = [sys.executable, "-m", "prefect", "server", "start", "--host", "127.0.0.1", "--port", str(port), "--no-ui"]
    server = subprocess.Popen(command, env=env, stdin=subprocess.DEVNULL)
    stopping = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stopping.set())
    try:
        while server.poll() is None and not stopping.wait(1.0):
            if _idle_s() >= IDLE_S and _retire(port):
                break
    finally:
        _retire(port, force=True)
        if server.poll() is None:
            server.terminate()
            try:
                server.wait(timeout=20)
            except subprocess.TimeoutExpired:
                server.kill()
    return 0


def _retire(port: int, force: bool = False) -> bool:
    """Forget this server (new commands start another), unless a command renewed the lease meanwhile."""
    from filelock import FileLock

    with FileLock(folder() / "start.lock"):
        if not force and _idle_s() < IDLE_S:
            return False
        state = _state()
        if state and state["url"] == f"http://127.0.0.1:{port}/api":
            (folder() / "server.json").unlink()
        return True


if __name__ == "__main__":
    sys.exit(_watch(int(sys.argv[1])))
