"""faceboard's local Prefect server: consecutive commands share one, a running command keeps it, and it stops
once no command has held it for the idle time."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

COMMAND = """
import os, sys, time
from faceboard import prefect_api
prefect_api.start_early()
from prefect import flow
prefect_api.ready()

@flow
def hello(n: int) -> int:
    return n

assert hello(1) == 1
time.sleep(float(sys.argv[1]))   # longer than the idle time: its lease keeps the server
assert hello(2) == 2
print(os.environ.get("PREFECT_API_URL", "temporary"))
"""


def _command(env: dict[str, str], hold_s: float = 0.0) -> str:
    done = subprocess.run([sys.executable, "-c", COMMAND, str(hold_s)], env=env, capture_output=True, text=True,
                          timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout.strip().splitlines()[-1]


def _answers(url: str) -> bool:
    try:
        urllib.request.build_opener(urllib.request.ProxyHandler({})).open(f"{url}/health", timeout=1).close()
        return True
    except OSError:
        return False


@pytest.fixture
def isolated(tmp_path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", "FACEBOARD_PREFECT")}
    return {**env, "FACEBOARD_CACHE": str(tmp_path / "cache"), "PREFECT_HOME": str(tmp_path / "prefect"),
            "FACEBOARD_PREFECT_IDLE_S": "4"}


def test_commands_share_one_server_that_stops_when_idle(isolated, monkeypatch):
    state = Path(isolated["FACEBOARD_CACHE"]) / "prefect-server" / "server.json"
    url = _command(isolated, hold_s=9)  # twice the idle time, holding its lease
    watcher = json.loads(state.read_text())["watcher"]
    again = _command(isolated)
    assert again == url and json.loads(state.read_text())["watcher"] == watcher and _answers(url)
    deadline = time.monotonic() + 30
    while _answers(url) or state.exists():
        assert time.monotonic() < deadline, "the idle server did not stop"
        time.sleep(0.5)
    deadline = time.monotonic() + 30
    while Path(f"/proc/{watcher}").exists() and "Z" not in Path(f"/proc/{watcher}/stat").read_text().split(") ")[1][:1]:
        assert time.monotonic() < deadline, "the watcher did not exit"
        time.sleep(0.5)
    restarted = _command(isolated)  # the next command starts a new one
    assert restarted != url and _answers(restarted)
    from faceboard import prefect_server

    monkeypatch.setenv("FACEBOARD_CACHE", isolated["FACEBOARD_CACHE"])
    prefect_server.stop()
    deadline = time.monotonic() + 30
    while _answers(restarted):
        assert time.monotonic() < deadline, "stop() did not stop the server"
        time.sleep(0.5)


def test_temporary_mode_uses_prefects_own_server_per_process(isolated):
    url = _command({**isolated, "FACEBOARD_PREFECT": "temporary"})
    assert url == "temporary" and not (Path(isolated["FACEBOARD_CACHE"]) / "prefect-server").exists()
