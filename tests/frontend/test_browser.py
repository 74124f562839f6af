"""The UI in a real headless Chromium: a filter view URL reproduces the same view anywhere."""

from __future__ import annotations

import time

import httpx
import pytest
from selenium import webdriver
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webelement import WebElement

from tests.frontend.browser import (
    SETTLED_JS,
    new_browser,
    open_filter_view,
    run_row,
    scroll_to,
    shot,
    upload_probe,
    wait_for,
)
from tests.support import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def test_filter_view_url_is_shareable(redis_stack: Stack, tiny_run: dict, browser):
    features = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/features").json()
    layer = features["layers"][-1]["name"]
    url = f"{redis_stack.ui_url}/runs/{tiny_run['id']}/layers/{layer}/filters/2?image=5"
    first = open_filter_view(browser, url)
    assert first["title"] == f"Filter 2 of {layer}"
    assert first["src"].endswith("/filters/2/overlay.png?image=5&mode=heat")
    assert first["width"] == "64"
    other = new_browser()
    try:
        assert open_filter_view(other, url) == first
    finally:
        other.quit()


def _link_to(driver: webdriver.Chrome, id: str, part: str) -> WebElement | None:
    """The link ``id`` once its address has ``part`` (a re-rendered page's link); else None."""
    link = driver.find_element(By.ID, id)
    return link if part in (link.get_attribute("href") or "") else None


def _listed_runs(driver: webdriver.Chrome) -> list[str]:
    """The ids of the runs the runs table lists, in order."""
    return driver.execute_script(
        "return [...document.querySelectorAll('table.runs td.id a')].map(a => a.textContent);"
    )


def test_runs_page_lists_runs_and_links_them(redis_stack: Stack, tiny_run: dict, browser):
    browser.get(redis_stack.ui_url + "/")
    link = wait_for(browser, 30).until(lambda d: d.find_element(By.LINK_TEXT, tiny_run["id"]))
    assert link.get_attribute("href").endswith(f"/runs/{tiny_run['id']}")
    rows = browser.find_elements(By.CSS_SELECTOR, "table.runs tbody tr")
    assert len(rows) >= 2
    row = wait_for(browser, 30).until(lambda d: run_row(d, tiny_run["id"]))
    assert "compare" in row and tiny_run["twin_id"] in row, row
    # A header sorts the table, a pill filters it, both in the address; the live refresh
    # keeps them.
    browser.find_element(By.ID, "runs-sort-accuracy").click()
    wait = wait_for(browser, 30)
    # The pills of the re-rendered page carry the new order.
    pill = wait.until(lambda d: _link_to(d, "runs-kind-ordinary", "sort=accuracy"))
    pill.click()
    wait.until(lambda d: "kind=ordinary" in d.current_url and "sort=accuracy" in d.current_url)
    wait.until(lambda d: tiny_run["twin_id"] in _listed_runs(d))
    time.sleep(2.5)  # a refresh tick
    assert tiny_run["id"] not in _listed_runs(browser)
    kinds = browser.execute_script(
        "return [...document.querySelectorAll('table.runs td.kind')].map(td => td.textContent);"
    )
    assert kinds and set(kinds) == {"ordinary"}, kinds
    assert browser.find_element(By.ID, "runs-kind-ordinary").get_attribute("class") == "pill active"
    shot(browser, "runs-filtered")


def test_launch_form_reports_api_validation_error(redis_stack: Stack, browser):
    browser.get(redis_stack.ui_url + "/")
    epochs = wait_for(browser, 30).until(lambda d: d.find_element(By.ID, "launch-epochs"))
    epochs.clear()
    epochs.send_keys("-3")
    browser.find_element(By.ID, "launch-button").click()
    message = wait_for(browser, 30).until(
        lambda d: d.find_element(By.ID, "launch-message").text or None
    )
    assert "Could not launch" in message and "epochs" in message
    # The same reason stands next to the field at fault, and nowhere else.
    at_field = browser.find_element(By.ID, "launch-error-epochs").text
    assert "greater than or equal to 1" in at_field
    assert browser.find_element(By.ID, "launch-error-lr").text == ""
    shot(browser, "launch-error")


def test_run_view_grid_links_to_each_filters_best_image(
    redis_stack: Stack, tiny_run: dict, browser
):
    browser.get(f"{redis_stack.ui_url}/runs/{tiny_run['id']}?layer=conv_top")
    wait = wait_for(browser, 60)
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
    wait = wait_for(browser, 60)
    table = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "table.comparison"))
    text = table.text
    assert "location instability" in text and "part interpretability" in text
    # Fig. 6 as plotly heat maps on one scale, and the same filter of both runs side by side.
    heat = wait.until(
        lambda d: d.execute_script(
            "const g = document.querySelector('#compare-heatmaps .js-plotly-plot');"
            "return g && g.data ? [g.data.map(t => t.coloraxis), g.layout.coloraxis.cmax] : null;"
        )
    )
    assert heat[0] == ["coloraxis", "coloraxis"] and heat[1] > 0
    overlays = [browser.find_element(By.ID, f"compare-overlay-{n}") for n in (0, 1)]
    assert (
        overlays[1]
        .get_attribute("src")
        .startswith(f"{redis_stack.ui_url}/media/runs/{tiny_run['twin_id']}/layers/")
    )
    shot(browser, "compare")
    url = f"{redis_stack.ui_url}/runs/{tiny_run['id']}/layers/conv_added/filters/1?image=2"
    open_filter_view(browser, url)
    browser.find_element(By.LINK_TEXT, "receptive fields").click()
    wait.until(lambda d: "overlay=rf" in d.current_url)
    rf = open_filter_view(browser, browser.current_url)
    assert rf["src"].endswith("/filters/1/overlay.png?image=2&mode=rf")
    assert "part interpretability P_f" in browser.find_element(By.ID, "filter-metrics").text


def _tile_filters(driver: webdriver.Chrome) -> list[int]:
    """The filter of each tile of the grid, in order (from the tiles' links)."""
    # Read in one script: the grid may be re-rendered between two WebDriver calls.
    hrefs = driver.execute_script(
        "return [...document.querySelectorAll('.grid a.cell')].map(a => a.getAttribute('href'));"
    )
    return [int(href.split("/filters/")[1].split("?")[0]) for href in hrefs]


def test_run_page_draws_training_curves_and_metric_charts(
    redis_stack: Stack, tiny_run: dict, browser
):
    browser.get(f"{redis_stack.ui_url}/runs/{tiny_run['id']}")
    wait = wait_for(browser, 60)
    points = wait.until(
        lambda d: d.execute_script(
            "const g = document.querySelector('#run-view-curves .js-plotly-plot');"
            "return g && g.data && g.data.length ? g.data.map(t => (t.x || []).length) : null;"
        )
    )
    history = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/history", timeout=30)
    steps = sum(1 for p in history.json()["points"] if p["kind"] == "step")
    assert len(points) == 12 and points[0] == steps > 0  # 6 panels: steps and epoch means
    scroll_to(browser, "run-view-charts")  # drawn once scrolled to
    bars = wait.until(
        lambda d: d.execute_script(
            "const g = document.querySelector('#part-histogram .js-plotly-plot');"
            "return g && g.data ? g.data[0].y : null;"
        )
    )
    metrics = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/metrics", timeout=30).json()
    top = metrics["layers"][metrics["top_layer"]]
    assert sum(bars) == len(top["part_interpretability"]["per_filter"])
    assert "succeeded" in browser.find_element(By.ID, "run-view-log").get_attribute("textContent")
    assert browser.find_element(By.ID, "run-status").text == "succeeded"
    assert browser.find_elements(By.ID, "copy-link")
    shot(browser, "run")


def test_sort_and_threshold_in_the_url_order_the_grid(redis_stack: Stack, tiny_run: dict, browser):
    run_url = f"{redis_stack.ui_url}/runs/{tiny_run['id']}"
    summary = httpx.get(
        f"{redis_stack.api_url}/runs/{tiny_run['id']}/layers/conv_top/filters", timeout=30
    ).json()
    by_peak = [item["filter"] for item in sorted(summary, key=lambda i: -i["peak"])]
    browser.get(f"{run_url}?layer=conv_top&sort=peak&desc=1")
    wait = wait_for(browser, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".grid a.cell"))
    assert _tile_filters(browser) == by_peak
    sheet = browser.find_element(By.CSS_SELECTOR, "img.sheet-image")
    wait.until(lambda d: d.execute_script("return arguments[0].naturalWidth;", sheet) == 960)
    # The threshold goes into the address, which greys the tiles below it.
    threshold = sorted(item["peak"] for item in summary)[len(summary) // 2]
    box = browser.find_element(By.ID, "grid-min-peak")
    box.send_keys(f"{threshold}\n")
    wait.until(lambda d: "min_peak=" in d.current_url)
    assert "sort=peak&desc=1" in browser.current_url
    below = sum(1 for item in summary if item["peak"] < threshold)
    wait.until(
        lambda d: (
            d.execute_script("return document.querySelectorAll('a.cell.dimmed').length;") == below
        )
    )
    shot(browser, "run-sorted")
    # Another order starts from its own first direction (filter index: ascending) and keeps
    # the threshold.
    browser.find_element(By.ID, "grid-sort-filter").click()
    wait.until(lambda d: "sort=" not in d.current_url and "min_peak=" in d.current_url)
    assert "desc=" not in browser.current_url
    wait.until(lambda d: _tile_filters(d) == list(range(len(summary))))


def test_bad_addresses_show_the_not_found_page(redis_stack: Stack, tiny_run: dict, browser):
    wait = wait_for(browser, 30)
    for path in ("/runs/nosuchrun", "/runs/x/layers/y", f"/runs/{tiny_run['id']}/layers/l/x"):
        browser.get(redis_stack.ui_url + path)
        box = wait.until(lambda d: d.find_element(By.ID, "not-found"))
        assert box.find_element(By.TAG_NAME, "h2").text == "Not found"
    shot(browser, "not-found")
    browser.get(redis_stack.ui_url + "/runs/nosuchrun")
    wait.until(lambda d: d.find_element(By.ID, "not-found"))
    assert "not found" in browser.find_element(By.CSS_SELECTOR, "#not-found p").text
    assert not browser.find_element(By.ID, "run-view-body").is_displayed()
    browser.find_element(By.LINK_TEXT, "← back to the runs").click()
    wait.until(lambda d: d.find_element(By.ID, "launch-button"))
    shot(browser, "runs")


def test_filter_view_steps_to_neighbours_and_shows_the_panel(
    redis_stack: Stack, tiny_run: dict, browser
):
    url = f"{redis_stack.ui_url}/runs/{tiny_run['id']}/layers/conv_top/filters/2?image=5"
    open_filter_view(browser, url)
    hrefs = {
        name: browser.find_element(By.LINK_TEXT, name).get_attribute("href")
        for name in ("< filter", "filter >", "< image", "image >")
    }
    assert hrefs["< filter"].endswith("/filters/1?image=5")
    assert hrefs["filter >"].endswith("/filters/3?image=5")
    assert hrefs["< image"].endswith("/filters/2?image=4")
    assert hrefs["image >"].endswith("/filters/2?image=6")
    panel = wait_for(browser, 30).until(lambda d: d.find_element(By.ID, "filter-panel"))
    wait_for(browser, 30).until(
        lambda d: d.execute_script("return arguments[0].naturalWidth;", panel) >= 4 * 224
    )
    assert browser.find_elements(By.ID, "copy-link")
    shot(browser, "filter")
    # The arrow keys follow the same links: right to the next filter, shift+left to the image.
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.ARROW_RIGHT)
    wait_for(browser, 30).until(
        lambda d: d.find_element(By.TAG_NAME, "h2").text == "Filter 3 of conv_top"
    )
    assert browser.current_url.endswith("/filters/3?image=5")
    body = browser.find_element(By.TAG_NAME, "body")
    body.send_keys(Keys.SHIFT, Keys.ARROW_LEFT)
    wait_for(browser, 30).until(lambda d: d.current_url.endswith("/filters/3?image=4"))


def test_probe_an_uploaded_image_in_both_twins(
    redis_stack: Stack, tiny_run: dict, browser, tmp_path
):
    image = httpx.get(f"{redis_stack.api_url}/runs/{tiny_run['id']}/images/3.png", timeout=30)
    picture = tmp_path / "mine.png"
    picture.write_bytes(image.content)
    upload_probe(browser, redis_stack.ui_url, tiny_run["id"], picture)
    wait = wait_for(browser, 60)
    sheets = browser.find_elements(By.CSS_SELECTOR, ".probe-sheet img.sheet-image")
    assert len(sheets) == 2 and all(s.get_attribute("naturalWidth") != "0" for s in sheets)
    shot(browser, "probe")
    # A shared probe link shows the same view; a file that is no image says so.
    other = new_browser()
    try:
        other.get(browser.current_url)
        wait_for(other, 60).until(lambda d: d.find_elements(By.ID, "probe-view"))
    finally:
        other.quit()
    notes = tmp_path / "notes.png"
    notes.write_bytes(b"not an image at all")
    browser.get(f"{redis_stack.ui_url}/runs/{tiny_run['id']}/probe")
    chooser = wait.until(
        lambda d: d.find_element(By.CSS_SELECTOR, "#probe-upload input[type=file]")
    )
    chooser.send_keys(str(notes))
    message = wait.until(lambda d: d.find_element(By.ID, "probe-message").text or None)
    assert "not" in message and "image" in message


def test_dataset_page_draws_samples_with_landmarks(redis_stack: Stack, browser):
    browser.get(f"{redis_stack.ui_url}/datasets/builtin?overlay=landmarks")
    wait = wait_for(browser, 60)
    wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".sample-cell img"))
    wait.until(lambda d: d.execute_script(SETTLED_JS))
    sources = [
        img.get_attribute("src")
        for img in browser.find_elements(By.CSS_SELECTOR, ".sample-cell img")
    ]
    assert sources and all(src.endswith("overlay=landmarks") for src in sources)
    assert browser.find_element(By.ID, "dataset-count").text.startswith("samples 1 to")
    shot(browser, "dataset")


def test_images_through_the_ui_keep_the_apis_caching(redis_stack: Stack, tiny_run: dict):
    path = f"/media/runs/{tiny_run['id']}/layers/conv_top/filters/0/overlay.png?image=1"
    first = httpx.get(redis_stack.ui_url + path, timeout=30)
    assert first.status_code == 200 and first.headers["content-type"] == "image/png"
    assert "immutable" in first.headers["cache-control"]
    again = httpx.get(
        redis_stack.ui_url + path, headers={"If-None-Match": first.headers["etag"]}, timeout=30
    )
    assert (again.status_code, again.content) == (304, b"")
