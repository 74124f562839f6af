"""``/runs/<run_id>/compare[?with=<other>]``: two runs side by side (default: the run's twin)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
from dash import Input, Output, State, callback, html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.compare import CHARTS_ID, Side, choose_other, compare_view, histograms
from frontend.components.heatmaps import fetch_heats
from frontend.components.metrics import top_layer

dash.register_page(
    __name__,
    path_template=urls.ComparePage.TEMPLATE,
    name="Compare",
    title="partlens · compare",
    order=1,
)


def side(run_id: str) -> Side:
    """A run, its metrics and its heat maps as numbers (None where the API has none)."""
    api = api_client()
    run = api.get_json(urls.api_run(run_id))
    metrics = api.get_json(urls.api_metrics(run_id))
    return Side(run, metrics, fetch_heats(api, run_id, list(metrics.get("heatmaps", {}))))


def listed_runs() -> list[dict[str, Any]]:
    """The runs the pickers offer (none when the API cannot list them)."""
    try:
        return list(api_client().get_json(urls.API_RUNS))
    except ApiError:
        return []


def layer_counts(run_id: str, layer: str) -> tuple[int, int]:
    """(filters of ``layer``, evaluation images) of a run, for the steps' wrap-around."""
    features = api_client().get_json(urls.api_features(run_id))
    filters = next((item["filters"] for item in features["layers"] if item["name"] == layer), 1)
    return max(1, filters), max(1, features["num_images"])


def top_image(run_id: str, layer: str, filter_index: int) -> int:
    """The image the filter fires on most in the run (0 when the API names none): the
    comparison's default image, where the filter shows something in at least one run."""
    try:
        top = api_client().get_json(urls.api_filter(run_id, layer, filter_index, "top"), k=1)
    except ApiError:
        return 0
    images = top.get("images") or [0]
    return int(images[0])


def layout(run_id: str | None = None, **query: Any) -> html.Div:
    """The comparison the URL names, a picker when the run has no twin, or what went wrong."""
    page = urls.ComparePage.from_dash(
        run_id, query.get("with"), query.get("layer"), query.get("filter"), query.get("image")
    )
    if page is None:
        return not_found(f"Bad compare address: run {run_id!r}, query {query!r}")
    try:
        run = api_client().get_json(urls.api_run(page.run_id))
        other = page.other or run["twin_id"]
        if other is None:
            return choose_other(page, listed_runs())
        left, right = side(page.run_id), side(other)
        layer = page.layer or top_layer(left.metrics)
        counts = layer_counts(page.run_id, layer)
    except ApiError as exc:
        if exc.status_code == 404:
            return not_found(exc.message)
        return error_box(exc.message, id="compare-error")
    if page.image is None:
        page = replace(page, image=top_image(page.run_id, layer, page.filter_index))
    return compare_view(page, (left, right), listed_runs(), layer, counts)


@callback(
    Output(CHARTS_ID, "children"),
    Input(f"{CHARTS_ID}-seen", "data"),
    State("compare-view-state", "data"),
    prevent_initial_call=True,
)
def draw_charts(seen: bool, state: dict[str, Any]) -> Any:
    """The best-part histograms of both runs, scrolled into view."""
    if not seen:
        return no_update
    api = api_client()
    try:
        sides = [
            Side(api.get_json(urls.api_run(run_id)), api.get_json(urls.api_metrics(run_id)), {})
            for run_id in (state["run_id"], state["other"])
        ]
    except ApiError as exc:
        return error_box(exc.message)
    return histograms(*sides)


@callback(
    Output("compare-location", "href"),
    Input("compare-left", "value"),
    Input("compare-right", "value"),
    State("compare-view-state", "data"),
    prevent_initial_call=True,
)
def choose_runs(left: str, right: str | None, state: dict[str, Any]) -> Any:
    """A new pair in the pickers: the comparison of that pair (its address)."""
    if not right or (left, right) == (state["run_id"], state["other"]):
        return no_update
    return urls.ComparePage(left, right).url()
