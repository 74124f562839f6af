"""The filter view's charts in a real headless Chromium: P_fk per part, the part positions,
and a click on a position opening its image."""

from __future__ import annotations

import httpx
import pytest
from selenium.webdriver.common.action_chains import ActionChains
from selenium.webdriver.common.by import By

from tests.frontend.browser import open_filter_view, scroll_to, shot, wait_for
from tests.support import Stack

pytestmark = [pytest.mark.browser, pytest.mark.integration]


def _lonely_point(positions: dict, image: int) -> int:
    """The index of the point of another image than ``image`` farthest from every other marker
    (a click on it reaches it, not a marker drawn over it)."""
    markers = [(p["x"], p["y"]) for p in positions["points"]]
    markers += [(m["x"], m["y"]) for m in positions["landmarks"]]

    def room(n: int) -> float:
        x, y = markers[n]
        return min(
            ((x - u) ** 2 + (y - v) ** 2 for k, (u, v) in enumerate(markers) if k != n),
            default=1.0,
        )

    others = [n for n, p in enumerate(positions["points"]) if p["image"] != image]
    return max(others, key=room)


def test_filter_view_charts_its_parts_and_opens_a_clicked_position(
    redis_stack: Stack, tiny_run: dict, browser
):
    run_id = tiny_run["id"]
    url = f"{redis_stack.ui_url}/runs/{run_id}/layers/conv_top/filters/2?image=5"
    open_filter_view(browser, url)
    metrics = httpx.get(f"{redis_stack.api_url}/runs/{run_id}/metrics", timeout=30).json()
    layer = metrics["layers"]["conv_top"]["part_interpretability"]
    assert not browser.find_elements(By.ID, "filter-parts")  # below the fold: not drawn yet
    scroll_to(browser, "filter-charts")
    bars = browser.execute_script(
        "const g = document.querySelector('#filter-parts .js-plotly-plot');"
        "return [g.data[0].y, g.data[0].x, g.layout.xaxis.title.text];"
    )
    assert bars[0] == layer["parts"]
    assert bars[1] == [0 if v is None else v for v in layer["per_filter_part"][2]]
    assert bars[2].startswith("P_fk: share of the images with part k where IoU(S_f, part k) >")
    positions = httpx.get(
        f"{redis_stack.api_url}/runs/{run_id}/layers/conv_top/filters/2/positions", timeout=30
    ).json()
    drawn = browser.execute_script(
        "const g = document.querySelector('#filter-positions .js-plotly-plot');"
        "return [g.data[0].customdata, g.data.length, g.layout.yaxis.range];"
    )
    assert drawn[0] == [p["image"] for p in positions["points"]]
    assert drawn[1] == (2 if positions["landmarks"] else 1)
    assert drawn[2][0] > drawn[2][1]  # y runs down, as in the image
    shot(browser, "filter-charts")
    # A click on another image's position opens that image in the same filter view.
    other = _lonely_point(positions, image=5)
    point = browser.find_elements(By.CSS_SELECTOR, "#filter-positions .trace.scatter .point")
    ActionChains(browser).move_to_element(point[other]).pause(0.3).click().perform()
    image = positions["points"][other]["image"]
    wait_for(browser, 30).until(lambda d: d.current_url.endswith(f"/filters/2?image={image}"))
    wait_for(browser, 30).until(
        lambda d: (
            d.find_element(By.ID, "filter-overlay")
            .get_attribute("src")
            .endswith(f"overlay.png?image={image}&mode=heat")
        )
    )
