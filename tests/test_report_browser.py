"""The leaderboard page in headless Chromium, opened from disk with the network blocked: the ranked rows are the
Parquet's, sorting, subset tabs, the filter and the gallery work, nothing is injected, nothing leaves the page."""

from __future__ import annotations

import pandas as pd
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys

from faceboard.config import load_params
from faceboard.report import page
from tests.boards import XSS, page_board
from tests.browser import Browser
from tests.conftest import ROOT, SAMPLE

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def opened(tmp_path_factory):
    folder = tmp_path_factory.mktemp("browser")
    board = page_board(folder, SAMPLE / "lq", load_params(ROOT / "params.yaml"))
    html = page.write(board, folder / "leaderboard.html")
    with Browser() as browser:
        browser.open(html)
        yield browser, board, folder


def _visible(browser: Browser) -> list[tuple[str, str]]:
    """(subset, method) of the ranking rows on show, top to bottom."""
    rows = browser.driver.find_elements(By.CSS_SELECTOR, "#ranking-table tbody tr")
    return [(r.get_attribute("data-subset"), r.get_attribute("data-method")) for r in rows if r.is_displayed()]


def _overall(board) -> pd.DataFrame:
    table = pd.read_parquet(board.leaderboard)
    return table[table["subset"] == "all"].sort_values(["rank", "method"], na_position="last")


def test_the_page_shows_the_parquet_ranking_and_injects_nothing(opened):
    browser, board, folder = opened
    assert [m for _, m in _visible(browser)] == _overall(board)["method"].tolist()
    assert not browser.dialog_opened()
    driver = browser.driver
    assert driver.execute_script("return document.querySelectorAll('img[src=\"x\"], img:not([src])').length") == 0
    names = [e.text for e in driver.find_elements(By.CSS_SELECTOR, "#ranking-table tbody tr .name")]
    assert XSS in names  # the method name, shown as text
    browser.screenshot(folder / "leaderboard.png")


def test_clicking_a_header_sorts_within_the_ranked_and_unranked_groups(opened):
    browser, board, _ = opened
    overall = _overall(board)
    header = browser.driver.find_element(By.CSS_SELECTOR, '#ranking-table th[data-col="niqe"]')
    header.click()  # NIQE: lower is better, so ascending first
    groups = [overall[overall["rank"].notna()], overall[overall["rank"].isna()]]  # ranked ones stay above

    def by_niqe(ascending: bool) -> list[str]:
        return [m for g in groups for m in g.sort_values("niqe", ascending=ascending, na_position="last")["method"]]

    assert [m for _, m in _visible(browser)] == by_niqe(True)
    header.click()
    assert [m for _, m in _visible(browser)] == by_niqe(False)
    assert by_niqe(True) != by_niqe(False)
    browser.driver.find_element(By.CSS_SELECTOR, '#ranking-table th[data-col="rank"]').click()
    assert [m for _, m in _visible(browser)] == overall["method"].tolist()


def test_a_subset_tab_switches_the_table_and_the_filter_narrows_it(opened):
    browser, _, _ = opened
    driver = browser.driver
    driver.find_element(By.CSS_SELECTOR, '.tabs button[data-subset="LFW-Test"]').click()
    shown = _visible(browser)
    assert {s for s, _ in shown} == {"LFW-Test"} and len(shown) == 4
    box = driver.find_element(By.ID, "filter")
    box.send_keys("BAD")
    assert _visible(browser) == [("LFW-Test", "bad_id")]
    box.clear()
    box.send_keys(Keys.SPACE, Keys.BACKSPACE)  # an input event with the box empty again
    driver.find_element(By.CSS_SELECTOR, '.tabs button[data-subset="all"]').click()
    assert len(_visible(browser)) == 4


def test_the_gallery_compares_an_output_with_its_input_and_steps_through_images(opened):
    browser, _, _ = opened
    driver = browser.driver
    figures = driver.find_elements(By.CSS_SELECTOR, "#gallery-view figure")
    assert [f.get_attribute("data-method") for f in figures] == [None, "good", XSS, "bad_id"]
    box = figures[1].find_element(By.CSS_SELECTOR, ".compare")
    slider = box.find_element(By.CSS_SELECTOR, "input[type=range]")
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", slider)
    before = driver.execute_script("return getComputedStyle(arguments[0].querySelector('img.before')).clipPath", box)
    slider.send_keys(Keys.HOME)  # the slider moved by the keyboard, as a user would
    assert driver.execute_script("return getComputedStyle(arguments[0]).getPropertyValue('--pos')", box) == "0%"
    after = driver.execute_script("return getComputedStyle(arguments[0].querySelector('img.before')).clipPath", box)
    assert before != after
    loaded = driver.execute_script(
        "return Array.from(document.querySelectorAll('#gallery-view img')).every(i => i.complete && i.naturalWidth > 0)")
    assert loaded
    select = driver.find_element(By.ID, "gallery-image")
    first = select.get_attribute("value")
    driver.find_element(By.ID, "gallery-next").click()
    assert select.get_attribute("value") != first
    rows = driver.find_elements(By.CSS_SELECTOR, '#gallery-view figure[data-method="good"] table tr')
    assert any(r.text.startswith("niqe") for r in rows)


def test_nothing_left_the_page_and_nothing_failed(opened):
    browser, _, _ = opened
    assert browser.requests() == []
    assert browser.console_errors() == []
    assert not browser.dialog_opened()
