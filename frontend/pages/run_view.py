"""``/runs/<run_id>``: a run's live status and the grid of its filters."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, html

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box
from frontend.components.metrics import evaluation_section
from frontend.components.run import FINISHED, filter_grid, run_skeleton, run_status, shown_layer

# After the compare and filter pages, whose templates this one's would match too.
dash.register_page(
    __name__, path_template=urls.RunPage.TEMPLATE, name="Run", title="partlens · run", order=3
)


def layout(run_id: str | None = None, layer: str | None = None, **_query: Any) -> html.Div:
    """The page's frame; :func:`refresh` fills it in and keeps it live."""
    page = urls.RunPage.from_dash(run_id, layer)
    if page is None:
        return error_box(f"Bad run address: run {run_id!r}")
    return run_skeleton(page)


def filters_section(run_id: str, layer: str | None) -> Any:
    """The grid of the filters of ``layer`` (None or unknown: the top layer)."""
    try:
        features = api_client().get_json(urls.api_features(run_id))
        layers = [item["name"] for item in features["layers"]]
        shown = shown_layer(layers, layer)
        filters = api_client().get_json(urls.api_layer_filters(run_id, shown))
    except ApiError as exc:
        return html.P(exc.message)
    return filter_grid(run_id, layers, shown, filters)


def evaluation(run: dict[str, Any]) -> Any:
    """The evaluation section of a finished run."""
    try:
        metrics = api_client().get_json(urls.api_metrics(run["id"]))
    except ApiError as exc:
        return html.P(exc.message)
    return evaluation_section(run["id"], metrics, has_twin=run["twin_id"] is not None)


def run_sections(run_id: str, layer: str | None) -> tuple[Any, Any, Any, bool]:
    """Status, evaluation and filters of the run, and whether to stop refreshing."""
    try:
        run = api_client().get_json(urls.api_run(run_id))
    except ApiError as exc:
        return error_box(exc.message), None, None, True
    if run["status"] != "succeeded":
        return run_status(run), None, None, run["status"] in FINISHED
    return run_status(run), evaluation(run), filters_section(run_id, layer), True


@callback(
    Output("run-view-status", "children"),
    Output("run-view-evaluation", "children"),
    Output("run-view-filters", "children"),
    Output("run-view-refresh", "disabled"),
    Input("run-view-refresh", "n_intervals"),
    Input("run-view-id", "data"),
)
def refresh(_n: int | None, ids: dict[str, Any]) -> tuple[Any, Any, Any, bool]:
    """Every tick until the run is finished: the page's sections afresh."""
    return run_sections(ids["run_id"], ids["layer"])
