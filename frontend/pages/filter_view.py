"""``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>``: one filter on one image.

The whole view is derived from the URL, so a copied link reproduces it exactly.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
from dash import Input, Output, State, callback, html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.filter import CHARTS_ID, bad_address, filter_view
from frontend.components.filter_charts import filter_charts

dash.register_page(
    __name__,
    path_template=urls.FilterPage.TEMPLATE,
    name="Filter",
    title="partlens · filter",
    order=3,
)

TOP_IMAGES = 8
NOT_EVALUATED = "Inferred part positions: not evaluated yet."


def run_metrics(view: urls.FilterPage) -> dict[str, Any] | None:
    """The run's metrics when they cover the view's layer; None when the run is not evaluated
    (yet)."""
    try:
        metrics = dict(api_client().get_json(urls.api_metrics(view.run_id)))
    except ApiError:
        return None
    return metrics if view.layer in metrics.get("layers", {}) else None


def part_positions(view: urls.FilterPage) -> dict[str, Any] | str:
    """The filter's inferred part positions in the object frame, or why there are none (an API
    without them, a run not evaluated: 404 / 409)."""
    path = urls.api_filter(view.run_id, view.layer, view.filter_index, "positions")
    try:
        return dict(api_client().get_json(path))
    except ApiError as exc:
        return f"Inferred part positions: none for this filter ({exc.message})."


def layout(
    run_id: str | None = None,
    layer: str | None = None,
    filter_index: str | None = None,
    image: str | None = "0",
    overlay: str | None = "heat",
    **_query: Any,
) -> html.Div:
    """The filter view the URL names, or what is wrong with the URL or the API."""
    view = urls.FilterPage.from_dash(run_id, layer, filter_index, image, overlay)
    if view is None:
        return bad_address(filter_index, image, overlay)
    api = api_client()
    f = view.filter_index
    try:
        features = api.get_json(urls.api_features(view.run_id))
        act = api.get_json(
            urls.api_filter(view.run_id, view.layer, f, "activation"), image=view.image
        )
        top = api.get_json(urls.api_filter(view.run_id, view.layer, f, "top"), k=TOP_IMAGES)
        run = api.get_json(urls.api_run(view.run_id))
    except ApiError as exc:
        return not_found(exc.message) if exc.status_code == 404 else error_box(exc.message)
    n_filters = next(item["filters"] for item in features["layers"] if item["name"] == view.layer)
    counts = (n_filters, features["num_images"])
    return filter_view(view, run, counts, act, top["images"], run_metrics(view))


@callback(
    Output(CHARTS_ID, "children"),
    Input(f"{CHARTS_ID}-seen", "data"),
    State("filter-view-state", "data"),
    prevent_initial_call=True,
)
def draw_charts(seen: bool, state: dict[str, Any]) -> Any:
    """The charts scrolled into view: the filter's P_fk per part and its part positions."""
    if not seen:
        return no_update
    view = urls.FilterPage(**state)
    metrics = run_metrics(view)
    positions = NOT_EVALUATED if metrics is None else part_positions(view)
    return filter_charts(metrics, view.layer, view.filter_index, positions)


@callback(
    Output("filter-location", "href"),
    Input("filter-positions", "clickData"),
    State("filter-view-state", "data"),
    prevent_initial_call=True,
)
def open_clicked_image(click: dict[str, Any] | None, state: dict[str, Any]) -> Any:
    """A click on a part position: the same filter view on that point's image."""
    points = (click or {}).get("points") or []
    image = points[0].get("customdata") if points else None
    if not isinstance(image, int) or image < 0:
        return no_update
    return replace(urls.FilterPage(**state), image=image).url()
