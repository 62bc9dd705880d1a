"""Process environment: project root, caches, and the quiet, offline-friendly defaults.

`configure()` must run before prefect, pyiqa or huggingface are imported: they read these
variables at import time.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

PARAMS_FILE = "params.yaml"


def find_root(start: Path | None = None) -> Path:
    """The project root: the nearest folder at or above `start` holding params.yaml."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / PARAMS_FILE).is_file():
            return folder
    raise FileNotFoundError(f"no {PARAMS_FILE} in {here} or any parent: run faceboard inside a project")


def cache_dir() -> Path:
    """Where model weights live: $FACEBOARD_CACHE, else $XDG_CACHE_HOME/faceboard, else ~/.cache/faceboard."""
    if "FACEBOARD_CACHE" in os.environ:
        return Path(os.environ["FACEBOARD_CACHE"]).expanduser()
    base = Path(os.environ.get("XDG_CACHE_HOME", Path.home() / ".cache")).expanduser()
    return base / "faceboard"


def configure(root: Path | None = None) -> None:
    """Set the variables faceboard's libraries read at import; explicit user settings win.

    Hugging Face runs offline (`HF_HUB_OFFLINE=1`: a missing file fails in seconds instead of
    retrying for a minute) unless the user set HF_HUB_OFFLINE or `FACEBOARD_ONLINE=1`.
    """
    cache = cache_dir()
    defaults = {
        "TORCH_HOME": str(cache / "torch"),  # pyiqa: $TORCH_HOME/hub/pyiqa/<file>
        "HF_HOME": str(cache / "huggingface"),
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "DO_NOT_TRACK": "1",
        "DVC_NO_ANALYTICS": "1",
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_UI_ENABLED": "false",
        "PREFECT_LOGGING_LEVEL": "WARNING",
        "PREFECT_SERVER_LOGGING_LEVEL": "WARNING",
    }
    if os.environ.get("FACEBOARD_ONLINE") != "1":
        defaults["HF_HUB_OFFLINE"] = "1"
    if root is not None:
        defaults["PREFECT_HOME"] = str(root / ".prefect")
    for key, value in defaults.items():
        os.environ.setdefault(key, value)


def with_venv_on_path() -> dict[str, str]:
    """This environment with the running interpreter's bin folder first on PATH (for dvc stage cmds)."""
    bin_dir = os.path.dirname(sys.executable)
    return {**os.environ, "PATH": os.pathsep.join([bin_dir, os.environ.get("PATH", "")])}
