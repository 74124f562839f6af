"""The UI in a real headless Chromium: a filter view URL reproduces the same view anywhere."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from tests.support import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"


def new_browser() -> webdriver.Chrome:
    """A fresh headless Chromium with its own empty profile (a new browser context)."""
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for flag in (
        "--headless=new",
        "--no-sandbox",
        "--disable-gpu",
        "--disable-dev-shm-usage",
        "--disable-quic",
        "--no-first-run",
        "--disable-background-networking",
        "--disable-component-update",
        "--disable-sync",
        "--window-size=1200,900",
        f"--user-data-dir={tempfile.mkdtemp(prefix='partlens-chromium-')}",
    ):
        options.add_argument(flag)
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


@pytest.fixture
def browser() -> Iterator[webdriver.Chrome]:
    driver = new_browser()
    yield driver
    driver.quit()


def _filter_view(driver: webdriver.Chrome, url: str) -> dict[str, str]:
    driver.get(url)
    wait = WebDriverWait(driver, 30)
    img = wait.until(lambda d: d.find_element(By.ID, "filter-overlay"))
    wait.until(
        lambda d: d.execute_script(
            "const i = arguments[0]; return i.complete && i.naturalWidth > 0;", img
        )
    )
    return {
        "src": img.get_attribute("src"),
        "width": str(driver.execute_script("return arguments[0].naturalWidth;", img)),
        "title": driver.find_element(By.TAG_NAME, "h2").text,
        "stats": driver.find_element(By.ID, "filter-stats").text,
    }


def test_filter_view_url_is_shareable(redis_stack: Stack, tiny_run: dict, browser):
    features = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/features").json()
    layer = features["layers"][-1]["name"]
    url = f"{redis_stack.ui_url}/runs/{tiny_run['id']}/layers/{layer}/filters/2?image=5"
    first = _filter_view(browser, url)
    assert first["title"] == f"Filter 2 of {layer}"
    assert first["src"].endswith("/filters/2/overlay.png?image=5&mode=heat")
    assert first["width"] == "64"
    other = new_browser()
    try:
        assert _filter_view(other, url) == first
    finally:
        other.quit()


def test_runs_page_lists_runs_and_links_them(redis_stack: Stack, tiny_run: dict, browser):
    browser.get(redis_stack.ui_url + "/")
    link = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.LINK_TEXT, tiny_run["id"]))
    assert link.get_attribute("href").endswith(f"/runs/{tiny_run['id']}")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
    assert len(rows) >= 2


def test_launch_form_reports_api_validation_error(redis_stack: Stack, browser):
    browser.get(redis_stack.ui_url + "/")
    epochs = WebDriverWait(browser, 30).until(lambda d: d.find_element(By.ID, "launch-epochs"))
    epochs.clear()
    epochs.send_keys("-3")
    browser.find_element(By.ID, "launch-button").click()
    message = WebDriverWait(browser, 30).until(
        lambda d: d.find_element(By.ID, "launch-message").text or None
    )
    assert "Could not launch" in message and "epochs" in message


def test_run_view_grid_links_to_each_filters_best_image(
    redis_stack: Stack, tiny_run: dict, browser
):
    browser.get(f"{redis_stack.ui_url}/runs/{tiny_run['id']}?layer=conv_top")
    wait = WebDriverWait(browser, 60)
    cells = wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".grid a.cell") or None)
    summary = httpx.get(
        f"{redis_stack.api_url}/runs/{tiny_run['id']}/layers/conv_top/filters", timeout=30
    ).json()
    assert len(cells) == len(summary)
    assert (
        cells[3]
        .get_attribute("href")
        .endswith(f"/layers/conv_top/filters/3?image={summary[3]['top_image']}")
    )
    cells[3].click()
    wait.until(lambda d: d.find_element(By.ID, "filter-view"))
    assert browser.find_element(By.TAG_NAME, "h2").text == "Filter 3 of conv_top"


def test_compare_page_and_rf_overlay_link(redis_stack: Stack, tiny_run: dict, browser):
    browser.get(f"{redis_stack.ui_url}/runs/{tiny_run['id']}/compare")
    wait = WebDriverWait(browser, 60)
    table = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "table.comparison"))
    text = table.text
    assert "location instability" in text and "part interpretability" in text
    url = f"{redis_stack.ui_url}/runs/{tiny_run['id']}/layers/conv_added/filters/1?image=2"
    _filter_view(browser, url)
    browser.find_element(By.LINK_TEXT, "receptive fields").click()
    wait.until(lambda d: "overlay=rf" in d.current_url)
    rf = _filter_view(browser, browser.current_url)
    assert rf["src"].endswith("/filters/1/overlay.png?image=2&mode=rf")
    assert "part interpretability P_f" in browser.find_element(By.ID, "filter-metrics").text
