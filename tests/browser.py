"""Headless Chromium for tests: open a page from disk, offline, and see what it tried to do.

Uses Debian's `chromium` and `chromium-driver` (scripts/setup.sh installs them); nothing is downloaded.
The network is blocked three ways (host resolver, a dead proxy, CDP URL blocking), and every request that
tried to leave the page is still recorded from the performance log. Use as `with Browser() as b: b.open(path)`.
"""

from __future__ import annotations

import base64
import json
import os
import shutil
from pathlib import Path
from types import TracebackType
from typing import Self
from urllib.parse import urlsplit

import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.wait import WebDriverWait

os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never download a driver or browser
BLOCKED_URLS = ["http://*", "https://*", "ws://*", "wss://*", "ftp://*"]
LOCAL_SCHEMES = {"file", "data", "blob", "about", "chrome", "chrome-error", "devtools"}
SETUP_HINT = "scripts/setup.sh installs them as root (apt-get install chromium chromium-driver)"


def chromium_or_skip() -> tuple[str, str]:
    """Paths of the chromium binary and of chromedriver; skips the test without them (fails under CI=true)."""
    chromium = shutil.which("chromium") or shutil.which("chromium-browser")
    fallback = "/usr/lib/chromium/chromedriver"
    driver = shutil.which("chromedriver") or (fallback if os.access(fallback, os.X_OK) else None)
    if chromium and driver:
        return chromium, driver
    missing = " and ".join(name for name, path in (("chromium", chromium), ("chromedriver", driver)) if not path)
    message = f"no {missing} on PATH: {SETUP_HINT}"
    if os.environ.get("CI", "").strip().lower() not in {"", "0", "false", "no", "off"}:
        pytest.fail(f"CI must run the browser tests: {message}", pytrace=False)
    pytest.skip(message)


class Browser:
    """A headless Chromium with the network blocked; quits (with its processes) on close or on leaving `with`."""

    def __init__(self, width: int = 1400, height: int = 1000, timeout_s: float = 30.0) -> None:
        chromium, chromedriver = chromium_or_skip()
        options = webdriver.ChromeOptions()
        options.binary_location = chromium
        for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                    f"--window-size={width},{height}", "--host-resolver-rules=MAP * ~NOTFOUND",
                    "--proxy-server=http://127.0.0.1:9", "--no-first-run", "--disable-extensions",
                    "--disable-background-networking", "--disable-component-update", "--disable-sync"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
        options.unhandled_prompt_behavior = "ignore"  # an alert stays open for dialog_opened() to see
        service = Service(executable_path=chromedriver, env={**os.environ, "SE_OFFLINE": "true"})
        self.driver = webdriver.Chrome(service=service, options=options)
        self._running = True
        self._requests: list[str] = []
        self._errors: list[str] = []
        try:
            self.driver.set_page_load_timeout(timeout_s)
            self.driver.set_script_timeout(timeout_s)
            self.driver.execute_cdp_cmd("Network.enable", {})
            self.driver.execute_cdp_cmd("Network.setBlockedURLs", {"urls": BLOCKED_URLS})
        except BaseException:
            self.close()
            raise

    def __enter__(self) -> Self:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Quit Chromium and chromedriver (idempotent)."""
        if self._running:
            self._running = False
            self.driver.quit()

    def open(self, path: Path) -> None:
        """Load a file from disk and wait for its load event."""
        self.driver.get(Path(path).resolve().as_uri())

    def requests(self) -> list[str]:
        """Every URL the pages requested off the page (not file/data/blob/about/chrome), in order, since start."""
        self._drain()
        return list(self._requests)

    def console_errors(self) -> list[str]:
        """SEVERE browser-log messages (console.error, uncaught exceptions, failed loads) since start."""
        self._drain()
        return list(self._errors)

    def dialog_opened(self, within_s: float = 2.0) -> bool:
        """Whether an alert/confirm/prompt is open, or opens within `within_s` (a page's script may raise it after
        the load returns); the harness never dismisses one, and most commands fail while one is open."""
        try:
            WebDriverWait(self.driver, within_s, poll_frequency=0.05).until(expected_conditions.alert_is_present())
        except TimeoutException:
            return False
        return True

    def screenshot(self, path: Path) -> Path:
        """A PNG of the whole page (beyond the window), parent folders created."""
        size = self.driver.execute_cdp_cmd("Page.getLayoutMetrics", {})["cssContentSize"]
        clip = {"x": 0, "y": 0, "width": size["width"], "height": size["height"], "scale": 1}
        shot = self.driver.execute_cdp_cmd("Page.captureScreenshot",
                                           {"format": "png", "captureBeyondViewport": True, "clip": clip})
        path = Path(path)
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_bytes(base64.b64decode(shot["data"]))
        return path

    def _drain(self) -> None:
        """Move the logs chromedriver holds (reading empties them) into this object's lists."""
        for entry in self.driver.get_log("performance"):
            event = json.loads(entry["message"])["message"]
            method, params = event.get("method"), event.get("params", {})
            if method == "Network.requestWillBeSent":
                url = params["request"]["url"]
            elif method == "Network.webSocketCreated":  # WebSockets never show as requests
                url = params["url"]
            else:
                continue
            if urlsplit(url).scheme not in LOCAL_SCHEMES:
                self._requests.append(url)
        self._errors += [entry["message"] for entry in self.driver.get_log("browser") if entry["level"] == "SEVERE"]
