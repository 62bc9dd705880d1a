"""The headless-Chromium harness (tests/browser.py) sees what a page from disk tried to do."""

from __future__ import annotations

import struct
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.support.ui import WebDriverWait

from tests.browser import Browser, chromium_or_skip

pytestmark = pytest.mark.browser

# A 1x1 PNG.
DOT = ("data:image/png;base64,iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAAB"
       "JRU5ErkJggg==")


@pytest.fixture
def browser() -> Iterator[Browser]:
    with Browser() as b:
        yield b


def page(folder: Path, body: str, head: str = "") -> Path:
    path = folder / "page.html"
    path.write_text(f"<!doctype html><html><head><meta charset='utf-8'>{head}</head><body>{body}</body></html>")
    return path


def natural_width(b: Browser, element_id: str) -> int:
    WebDriverWait(b.driver, 10).until(lambda d: d.execute_script(f"return document.getElementById('{element_id}')"
                                                                 ".complete"))
    return b.driver.execute_script(f"return document.getElementById('{element_id}').naturalWidth")


def test_requests_off_the_page_are_listed_and_blocked(browser: Browser, tmp_path: Path) -> None:
    browser.open(page(tmp_path, '<img id="img" src="https://example.com/x.png"><script>fetch("http://example.org/")'
                      '.then(() => document.title = "loaded", () => document.title = "failed");</script>'))
    WebDriverWait(browser.driver, 10).until(lambda d: d.title)
    assert browser.driver.title == "failed"
    assert natural_width(browser, "img") == 0
    found = browser.requests()
    assert set(found) == {"https://example.com/x.png", "http://example.org/"}
    assert browser.requests() == found  # reading the log empties it; the harness keeps what it read


def test_console_errors_and_uncaught_exceptions_are_listed(browser: Browser, tmp_path: Path) -> None:
    browser.open(page(tmp_path, "<script>console.error('boom'); throw new Error('kaput');</script>"))
    errors = browser.console_errors()
    assert any('"boom"' in e for e in errors), errors
    assert any("Uncaught Error: kaput" in e for e in errors), errors
    assert browser.console_errors() == errors


def test_a_self_contained_page_is_clean(browser: Browser, tmp_path: Path) -> None:
    browser.open(page(tmp_path, f'<img id="dot" src="{DOT}"><p id="p">x</p>'
                      "<script>document.getElementById('p').textContent = 'ok';</script>",
                      head="<style>p { color: teal; }</style>"))
    assert natural_width(browser, "dot") == 1
    assert browser.driver.find_element("id", "p").text == "ok"
    assert browser.requests() == []
    assert browser.console_errors() == []


def test_dialogs(browser: Browser, tmp_path: Path) -> None:
    browser.open(page(tmp_path, "<p>quiet</p>"))
    assert not browser.dialog_opened()
    browser.open(page(tmp_path, "<script>alert(1);</script>"))
    assert browser.dialog_opened()


def test_screenshot_covers_the_whole_page(browser: Browser, tmp_path: Path) -> None:
    browser.open(page(tmp_path, '<div style="height: 3000px; background: linear-gradient(red, blue)"></div>'))
    shot = browser.screenshot(tmp_path / "shots" / "shot.png")
    data = shot.read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR"
    width, height = struct.unpack(">II", data[16:24])
    assert width >= 1000 and height >= 3000


def test_missing_chromium_skips_here_and_fails_in_ci(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("PATH", str(tmp_path))
    monkeypatch.delenv("CI", raising=False)
    with pytest.raises(pytest.skip.Exception, match="scripts/setup.sh"):
        chromium_or_skip()
    monkeypatch.setenv("CI", "true")
    with pytest.raises(pytest.fail.Exception, match="scripts/setup.sh"):
        chromium_or_skip()
