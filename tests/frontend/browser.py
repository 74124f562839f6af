"""Headless Chromium for the UI's browser tests: a fresh browser, waits, screenshots."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from selenium import webdriver
from selenium.common.exceptions import StaleElementReferenceException, TimeoutException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMEDRIVER = shutil.which("chromedriver") or "/usr/bin/chromedriver"
# A folder to save a full-page screenshot of each page the tests check (to look at them).
SHOTS = os.environ.get("PARTLENS_UI_SHOTS")
# Whether the page is done: every image loaded and no Dash callback pending.
SETTLED_JS = (
    "return [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    " && !document.querySelector('[data-dash-is-loading]');"
)
# Whether every section drawn when scrolled to is there, every chart drawn, and all settled.
DRAWN_JS = (
    "return !document.querySelector('.lazy-placeholder')"
    " && [...document.querySelectorAll('.chart')].every(g => g.querySelector('.main-svg'))"
    " && [...document.images].every(i => i.complete && i.naturalWidth > 0)"
    " && !document.querySelector('[data-dash-is-loading]');"
)


# The text of the runs table's row of a run (cells joined by a space), read in one script: the
# live refresh may re-render the table between two WebDriver calls. Null while it is absent.
RUN_ROW_JS = (
    "const a = [...document.querySelectorAll('table.runs td.id a')]"
    ".find(a => a.textContent === arguments[0]);"
    " return a ? [...a.closest('tr').cells].map(c => c.innerText.trim()).join(' ') : null;"
)


def run_row(driver: webdriver.Chrome, run_id: str) -> str | None:
    """The text of the runs table's row of ``run_id``; None while the table does not list it."""
    row = driver.execute_script(RUN_ROW_JS, run_id)
    return None if row is None else " ".join(str(row).split())


def wait_for(driver: webdriver.Chrome, timeout_s: float) -> WebDriverWait:
    """A wait that retries when Dash re-renders the element it is reading (a stale reference)."""
    return WebDriverWait(driver, timeout_s, ignored_exceptions=[StaleElementReferenceException])


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


def scroll_to(driver: webdriver.Chrome, id: str) -> None:
    """Scroll a section drawn when scrolled to into view, and wait until its charts are drawn."""
    section = wait_for(driver, 60).until(lambda d: d.find_element(By.ID, id))
    driver.execute_script("arguments[0].scrollIntoView();", section)
    wait_for(driver, 60).until(lambda d: d.execute_script(DRAWN_JS))


def shot(driver: webdriver.Chrome, name: str) -> None:
    """Save the whole page as ``<SHOTS>/<name>.png`` once it is settled (without SHOTS: no-op).

    The window grows to the page's height first, which brings every section drawn when
    scrolled to into view: the picture waits for them too.
    """
    if not SHOTS:
        return
    wait_for(driver, 30).until(lambda d: d.execute_script(SETTLED_JS))
    size = driver.get_window_size()
    height = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(size["width"], min(height + 200, 5000))
    wait_for(driver, 30).until(lambda d: d.execute_script(DRAWN_JS))
    height = driver.execute_script("return document.documentElement.scrollHeight;")
    driver.set_window_size(size["width"], min(height + 200, 5000))
    driver.execute_script("window.scrollTo(0, 0);")
    Path(SHOTS).mkdir(parents=True, exist_ok=True)
    driver.save_screenshot(str(Path(SHOTS) / f"{name}.png"))
    driver.set_window_size(size["width"], size["height"])


def page_state(driver: webdriver.Chrome) -> str:
    """What the page shows now: its address and the start of its text (for a failure message)."""
    text = driver.execute_script("return document.body ? document.body.innerText : '';")
    return f"at {driver.current_url}:\n{str(text)[:2000]}"


def open_filter_view(driver: webdriver.Chrome, url: str) -> dict[str, str]:
    """Open the filter view at ``url`` until its overlay has loaded: what it shows (the overlay's
    source and width, the title, the filter's figures)."""
    driver.get(url)
    # A first page on a cold, busy server (CI: 2 cores shared with the worker) can take a while.
    wait = wait_for(driver, 90)
    try:
        img = wait.until(lambda d: d.find_element(By.ID, "filter-overlay"))
        wait.until(
            lambda d: d.execute_script(
                "const i = arguments[0]; return i.complete && i.naturalWidth > 0;", img
            )
        )
    except TimeoutException:
        pytest.fail(f"the filter view never showed its overlay; the page {page_state(driver)}")
    return {
        "src": img.get_attribute("src"),
        "width": str(driver.execute_script("return arguments[0].naturalWidth;", img)),
        "title": driver.find_element(By.TAG_NAME, "h2").text,
        "stats": driver.find_element(By.ID, "filter-stats").text,
    }


def upload_probe(driver: webdriver.Chrome, ui_url: str, run_id: str, picture: Path) -> None:
    """Upload ``picture`` on the run's probe page and wait until both twins' probe view has
    settled (its URL names the twin's probe)."""
    driver.get(f"{ui_url}/runs/{run_id}/probe")
    chooser = wait_for(driver, 60).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#probe-upload input[type=file]")
    )
    chooser.send_keys(str(picture))
    try:
        # The first probe of a run loads its model (and its twin's) on a busy server.
        wait_for(driver, 120).until(lambda d: d.find_elements(By.ID, "probe-view"))
    except TimeoutException:
        pytest.fail(f"the probe never showed; the page {page_state(driver)}")
    assert "?twin=" in driver.current_url
    wait_for(driver, 60).until(lambda d: d.execute_script(SETTLED_JS))
