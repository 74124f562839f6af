"""Every dashboard page on runs of registered real-format datasets, in a real headless Chromium:
a Pascal-Part folder (part masks: an interpretable run and its ordinary twin) and a CUB-200
folder (landmarks only: part interpretability is a dash, and the pages say why)."""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webelement import WebElement

from frontend.components.common import NO_VALUE
from tests.cub_folder import write_cub_scenes
from tests.frontend.browser import (
    DRAWN_JS,
    open_filter_view,
    page_state,
    run_row,
    scroll_to,
    shot,
    upload_probe,
    wait_for,
)
from tests.pascal_part_folder import write_pascal_part_scenes
from tests.support import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]

PASCAL, CUB = "pascal-own", "cub-own"
# A tiny run from scratch on a registered dataset: a few steps on 64 px crops.
OWN_RUN = {
    "arch": "tiny",
    "from_scratch": True,
    "width": 8,
    "epochs": 1,
    "batch_size": 8,
    "max_steps": 3,
}
# Every image of the page that has finished loading has pixels (none is broken or pending).
IMAGES_JS = (
    "const s = [...document.querySelectorAll(arguments[0])];"
    "return s.length && s.every(i => i.complete && i.naturalWidth > 0) ? s.length : 0;"
)


@dataclass(frozen=True)
class OwnRuns:
    """The runs of the registered datasets: Pascal-Part's twins, and the CUB run."""

    pascal: dict
    twin: dict
    cub: dict
    pascal_root: Path


@pytest.fixture(scope="module")
def own_runs(redis_stack: Stack) -> OwnRuns:
    """Both folders registered through the API (under the stack's default allowed root,
    ``<data_dir>/datasets``), and their tiny runs trained to the end."""
    api = redis_stack.api_url
    roots = redis_stack.data_dir / "datasets"
    pascal_root = write_pascal_part_scenes(roots / PASCAL, train=24, val=12, size=80)
    cub_root = write_cub_scenes(roots / CUB, train=24, test=12, size=80)
    for name, format, root in ((PASCAL, "pascal-part", pascal_root), (CUB, "cub200", cub_root)):
        body = {"name": name, "format": format, "root": str(root)}
        created = httpx.post(f"{api}/datasets", json=body, timeout=60)
        assert created.status_code == 201, created.text
    launches = [
        {**OWN_RUN, "with_twin": True, "dataset": _dataset(PASCAL, "cat")},
        {**OWN_RUN, "dataset": _dataset(CUB, "bird")},
    ]
    ids = []
    for launch in launches:
        launched = httpx.post(f"{api}/runs", json=launch, timeout=30)
        assert launched.status_code == 201, launched.text
        ids.append(launched.json()["id"])
    pascal, cub = (redis_stack.wait_run(run_id) for run_id in ids)
    twin = redis_stack.wait_run(pascal["twin_id"])
    for run in (pascal, twin, cub):
        assert run["status"] == "succeeded", f"{run['error']}\n{redis_stack.logs()}"
    return OwnRuns(pascal, twin, cub, pascal_root)


def _dataset(name: str, category: str) -> dict:
    return {"name": name, "task": "single", "category": category, "image_size": 64}


def _get(stack: Stack, path: str, **params: str | bool) -> dict:
    response = httpx.get(f"{stack.api_url}{path}", params=params, timeout=30)
    assert response.status_code == 200, response.text
    return response.json()


def _loaded(driver: webdriver.Chrome, selector: str, timeout_s: float = 60) -> int:
    """How many images match ``selector`` once all of them have loaded with pixels."""
    try:
        return int(
            wait_for(driver, timeout_s).until(lambda d: d.execute_script(IMAGES_JS, selector))
        )
    except TimeoutException:
        pytest.fail(f"images {selector} never all loaded; the page {page_state(driver)}")


def _tile_filters(driver: webdriver.Chrome) -> list[int]:
    """The filter of each tile of the grid, in order (from the tiles' links)."""
    hrefs = driver.execute_script(
        "return [...document.querySelectorAll('.grid a.cell')].map(a => a.getAttribute('href'));"
    )
    return [int(href.split("/filters/")[1].split("?")[0]) for href in hrefs]


def _option(driver: webdriver.Chrome, label: str) -> WebElement | None:
    """The shown option ``label`` of an open dropdown, if any."""
    found = driver.find_elements(By.XPATH, f"//*[@role='option'][normalize-space()='{label}']")
    return next((option for option in found if option.is_displayed()), None)


def _click(driver: webdriver.Chrome, id: str) -> None:
    """Click the element ``id``, again when Dash re-renders it under the click (stale)."""
    wait_for(driver, 60).until(lambda d: d.find_element(By.ID, id).click() or True)


def _click_until(
    driver: webdriver.Chrome, id: str, done: Callable[[webdriver.Chrome], bool]
) -> None:
    """Click the link ``id`` until ``done``: a click that lands while Dash replaces the link
    (a second render of the same page) is lost; the link is only clicked again while ``done``
    is still false, i.e. while it still points where the first click was meant to go."""
    deadline = time.monotonic() + 60
    while not done(driver):
        assert time.monotonic() < deadline, f"clicking {id} did not take effect"
        _click(driver, id)
        with contextlib.suppress(TimeoutException):
            wait_for(driver, 5).until(done)


def _plot(driver: webdriver.Chrome, selector: str, expression: str) -> Any:
    """``expression`` of the plotly graph ``g`` under ``selector``, once it is drawn."""
    script = (
        f"const g = document.querySelector('{selector} .js-plotly-plot');"
        f"return g && g.data && g.data.length ? {expression} : null;"
    )
    return wait_for(driver, 60).until(lambda d: d.execute_script(script))


def test_runs_page_lists_the_runs_of_both_datasets(redis_stack: Stack, own_runs: OwnRuns, browser):
    browser.get(redis_stack.ui_url + "/")
    wait = wait_for(browser, 60)
    for run in (own_runs.pascal, own_runs.twin, own_runs.cub):
        row = wait.until(lambda d, run=run: run_row(d, run["id"]))
        kind = "ordinary" if run is own_runs.twin else "interpretable"
        dataset = run["config"]["dataset"]
        expected = f"{run['name']} tiny {dataset['name']} single · {dataset['category']} {kind}"
        assert f"{expected} succeeded" in row, row
        summary = _get(redis_stack, f"/runs/{run['id']}")["summary"]
        assert f"{summary['test_accuracy']:.3f}" in row, row
        assert f"{summary['location_instability']:.3f}" in row, row
    # The dataset filter tells the two datasets' runs apart.
    browser.get(f"{redis_stack.ui_url}/?dataset={PASCAL}")
    wait.until(lambda d: d.find_element(By.LINK_TEXT, own_runs.pascal["id"]))
    assert not browser.find_elements(By.LINK_TEXT, own_runs.cub["id"])
    assert browser.find_element(By.ID, "runs-filter-dataset").text.startswith(PASCAL)
    shot(browser, "own-runs-pascal")
    browser.get(redis_stack.ui_url + "/")
    wait.until(lambda d: d.find_element(By.LINK_TEXT, own_runs.cub["id"]))
    # The launch form offers the registered datasets; picking one offers its categories.
    wait.until(lambda d: d.find_element(By.ID, "launch-dataset")).click()
    assert wait.until(lambda d: _option(d, PASCAL))
    cub = wait.until(lambda d: _option(d, CUB))
    assert cub is not None
    cub.click()
    wait.until(lambda d: d.find_element(By.ID, "launch-category").text == "bird")
    shot(browser, "own-runs")


def test_run_pages_show_tables_curves_and_grid(redis_stack: Stack, own_runs: OwnRuns, browser):
    for run, name in ((own_runs.pascal, "pascal"), (own_runs.cub, "cub")):
        browser.get(f"{redis_stack.ui_url}/runs/{run['id']}")
        wait = wait_for(browser, 60)
        history = _get(redis_stack, f"/runs/{run['id']}/history")
        steps = sum(1 for p in history["points"] if p["kind"] == "step")
        points = _plot(browser, "#run-view-curves", "g.data.map(t => (t.x || []).length)")
        assert points[0] == steps > 0, points
        metrics = _get(redis_stack, f"/runs/{run['id']}/metrics")
        table = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "#evaluation table.metrics"))
        rows = [tr.text for tr in table.find_elements(By.CSS_SELECTOR, "tbody tr")]
        assert [row.split()[0] for row in rows] == list(metrics["layers"]), rows
        top = metrics["layers"][metrics["top_layer"]]
        li = top["location_instability"]["mean"]
        assert f"{li:.3f}" in rows[-1], rows
        filters = _get(redis_stack, f"/runs/{run['id']}/layers/{metrics['top_layer']}/filters")
        assert len(wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".grid a.cell"))) > 0
        assert _loaded(browser, "img.sheet-image") == 1
        evaluation = browser.find_element(By.ID, "evaluation").text
        if run is own_runs.cub:
            reason = metrics["part_interpretability_absent"]
            assert reason.startswith(f"{CUB} (cub200) annotates landmarks"), reason
            assert rows[-1].endswith(f"{NO_VALUE} {NO_VALUE}"), rows
            assert f"part interpretability: {NO_VALUE} ({reason})" in evaluation
            scroll_to(browser, "run-view-charts")
            note = browser.find_element(By.ID, "part-charts").text
            assert note.startswith(f"best-matching parts and RF-radius sensitivity: {NO_VALUE}")
            heat = "bird"
        else:
            pi = top["part_interpretability"]
            assert f"{pi['mean']:.3f}" in rows[-1], rows
            scroll_to(browser, "run-view-charts")
            bars = _plot(browser, "#part-histogram", "g.data[0].y")
            assert sum(bars) == len(pi["per_filter"]) == len(filters)
            heat = "cat"
        assert browser.find_element(By.CSS_SELECTOR, f"#heatmap-{heat} .main-svg")
        assert browser.find_element(By.ID, "run-status").text == "succeeded"
        shot(browser, f"own-run-{name}")


def test_grids_sort_by_a_column(redis_stack: Stack, own_runs: OwnRuns, browser):
    # Pascal-Part: by P_f (tiles of the server's order); CUB has no P_f: by peak instead.
    for run, key, name in (
        (own_runs.pascal, "part_score", "pascal"),
        (own_runs.cub, "peak", "cub"),
    ):
        browser.get(f"{redis_stack.ui_url}/runs/{run['id']}?layer=conv_top")
        wait = wait_for(browser, 60)
        wait.until(lambda d: d.find_elements(By.CSS_SELECTOR, ".grid a.cell"))
        _click_until(browser, f"grid-sort-{key}", lambda d, key=key: f"sort={key}" in d.current_url)
        # Both directions: the tiles in the server's order, which orders by the column.
        for desc in ("desc=1" in browser.current_url, "desc=1" not in browser.current_url):
            if desc != ("desc=1" in browser.current_url):
                _click_until(
                    browser,
                    "grid-direction",
                    lambda d, desc=desc, key=key: (
                        f"sort={key}" in d.current_url and ("desc=1" in d.current_url) == desc
                    ),
                )
            ordered = _get(
                redis_stack, f"/runs/{run['id']}/layers/conv_top/filters", sort=key, desc=desc
            )
            values = [row[key] for row in ordered]
            assert values == sorted(values, reverse=desc), values
            expected = [row["filter"] for row in ordered]
            wait.until(lambda d, expected=expected: _tile_filters(d) == expected)
        assert _loaded(browser, ".grid img") >= 1
        if run is own_runs.cub:
            absent = browser.find_element(By.ID, "grid-absent").text
            assert absent.startswith(f"P_f and best part: {NO_VALUE} ({CUB} (cub200)"), absent
        shot(browser, f"own-grid-{name}")


def test_filter_views_show_panel_charts_and_top_images(
    redis_stack: Stack, own_runs: OwnRuns, browser
):
    for run, name in ((own_runs.pascal, "pascal"), (own_runs.cub, "cub")):
        run_id = run["id"]
        filters = _get(redis_stack, f"/runs/{run_id}/layers/conv_top/filters")
        strongest = max(filters, key=lambda row: row["peak"])
        f, image = strongest["filter"], strongest["top_image"]
        url = f"{redis_stack.ui_url}/runs/{run_id}/layers/conv_top/filters/{f}?image={image}"
        shown = open_filter_view(browser, url)
        assert shown["title"] == f"Filter {f} of conv_top"
        panel = browser.find_element(By.ID, "filter-panel")
        wait_for(browser, 60).until(
            lambda d, panel=panel: (
                d.execute_script("return arguments[0].naturalWidth;", panel) >= 4 * 224
            )
        )
        # The UI's eight top images (the API's default k), all with pixels.
        top = _get(redis_stack, f"/runs/{run_id}/layers/conv_top/filters/{f}/top")
        assert _loaded(browser, "#filter-view .grid img") == len(top["images"]) > 0
        metrics = _get(redis_stack, f"/runs/{run_id}/metrics")
        scroll_to(browser, "filter-charts")
        positions = _get(redis_stack, f"/runs/{run_id}/layers/conv_top/filters/{f}/positions")
        drawn = _plot(browser, "#filter-positions", "[g.data[0].customdata, g.data.length]")
        assert drawn[0] == [p["image"] for p in positions["points"]]
        assert drawn[1] == (2 if positions["landmarks"] else 1)
        text = browser.find_element(By.ID, "filter-metrics").text
        if run is own_runs.cub:
            reason = metrics["part_interpretability_absent"]
            assert f"part interpretability P_f {NO_VALUE} ({reason})" in text, text
            note = browser.find_element(By.ID, "filter-parts").text
            assert note == f"association with each part: {NO_VALUE} ({reason})"
            names = {m["name"] for m in positions["landmarks"]}
            assert {"crown", "back", "tail"} <= names, names
        else:
            pi = metrics["layers"]["conv_top"]["part_interpretability"]
            bars = _plot(browser, "#filter-parts", "g.data[0].y")
            assert bars == pi["parts"] and len(bars) == len(pi["parts"]) > 1
            assert f"(best part: {pi['best_part'][f] or 'none'})" in text, text
        shot(browser, f"own-filter-{name}")


def test_compare_view_of_the_pascal_twins(redis_stack: Stack, own_runs: OwnRuns, browser):
    run, twin = own_runs.pascal, own_runs.twin
    browser.get(f"{redis_stack.ui_url}/runs/{run['id']}/compare")
    wait = wait_for(browser, 60)
    table = wait.until(lambda d: d.find_element(By.CSS_SELECTOR, "table.comparison")).text
    assert "location instability" in table and "part interpretability" in table
    assert run["id"] in table and twin["id"] in table, table
    heat = _plot(
        browser,
        "#compare-heatmaps",
        "[g.data.filter(t => t.type === 'heatmap').length, g.layout.coloraxis.cmax]",
    )
    assert heat[0] == 2 and heat[1] > 0, heat
    overlays = [browser.find_element(By.ID, f"compare-overlay-{n}") for n in (0, 1)]
    assert f"/media/runs/{twin['id']}/layers/" in overlays[1].get_attribute("src")
    assert _loaded(browser, "#compare-filter img") >= 2
    shot(browser, "own-compare")


def test_dataset_pages_draw_masks_and_landmarks(redis_stack: Stack, own_runs: OwnRuns, browser):
    for name, overlay in ((PASCAL, "masks"), (CUB, "landmarks")):
        dataset = _get(redis_stack, f"/datasets/{name}")
        browser.get(f"{redis_stack.ui_url}/datasets/{name}?overlay={overlay}")
        wait = wait_for(browser, 60)
        view = wait.until(lambda d: d.find_element(By.ID, "dataset-view"))
        assert view.find_element(By.TAG_NAME, "h2").text == f"Dataset {name}"
        facts = view.find_element(By.CSS_SELECTOR, "dl.facts").text
        assert all(category in facts for category in dataset["categories"]), facts
        count = _loaded(browser, ".sample-cell img")
        assert count == min(24, dataset["summary"]["splits"]["train"]["objects"]), count
        sources = browser.execute_script(
            "return [...document.querySelectorAll('.sample-cell img')].map(i => i.src);"
        )
        assert all(src.endswith(f"overlay={overlay}") for src in sources)
        captions = [
            c.text for c in browser.find_elements(By.CSS_SELECTOR, ".sample-cell figcaption")
        ]
        if name == PASCAL:
            assert all("head" in c for c in captions), captions
        else:
            assert all("no part masks" in c and " 0 landmarks" not in c for c in captions), captions
            # Part masks are offered disabled, with the reason.
            masks = browser.find_element(By.ID, "dataset-overlay-masks")
            assert masks.tag_name == "span" and "absent" in masks.get_attribute("class")
            assert "landmarks, not part masks" in browser.find_element(By.ID, "dataset-absent").text
        shot(browser, f"own-dataset-{name}")


def test_probe_a_jpeg_of_the_pascal_folder(redis_stack: Stack, own_runs: OwnRuns, browser):
    picture = sorted((own_runs.pascal_root / "JPEGImages").glob("*.jpg"))[0]
    upload_probe(browser, redis_stack.ui_url, own_runs.pascal["id"], picture)
    assert _loaded(browser, ".probe-sheet img.sheet-image") == 2
    assert _loaded(browser, "#probe-overlay-0, #probe-overlay-1") == 2
    view = browser.find_element(By.ID, "probe-view").text
    assert own_runs.pascal["id"] in view and own_runs.twin["id"] in view, view
    wait_for(browser, 60).until(lambda d: d.execute_script(DRAWN_JS))
    shot(browser, "own-probe")
