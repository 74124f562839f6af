"""``/runs/<run_id>``: a run's live status, training curves and log, and its filter grid."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
from dash import Input, Output, State, callback, html

from frontend import theme, urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.charts import training_figure
from frontend.components.common import error_box, not_found
from frontend.components.metrics import evaluation_section
from frontend.components.run import (
    FINISHED,
    Sections,
    filter_grid,
    run_page,
    run_status,
    sheet_of,
    shown_layer,
)

# After the compare and filter pages, whose templates this one's would match too.
dash.register_page(
    __name__, path_template=urls.RunPage.TEMPLATE, name="Run", title="partlens · run", order=3
)

LOG_BYTES = 16_000  # the tail a reader scrolls through; the whole log stays on disk


def layout(
    run_id: str | None = None,
    layer: Any = None,
    sort: Any = "filter",
    desc: Any = None,
    min_peak: Any = None,
    **_query: Any,
) -> html.Div:
    """The page as it is now; :func:`refresh` keeps it live while the run is unfinished.

    A finished run's page arrives whole with the layout: no callback round trip before it shows.
    """
    page = urls.RunPage.from_dash(run_id, layer, sort, desc, min_peak)
    if page is None:
        return not_found(f"Bad run address: a run page is {urls.RunPage.SHAPE}")
    return run_page(page, run_sections(page))


def filters_section(page: urls.RunPage) -> Any:
    """The contact sheet of the page's layer (None or unknown: the top layer)."""
    api = api_client()
    try:
        features = api.get_json(urls.api_features(page.run_id))
        layers = [item["name"] for item in features["layers"]]
        shown = shown_layer(layers, page.layer)
        filters = api.get_json(urls.api_layer_filters(page.run_id, shown))
        sheet = sheet_of(page, shown, len(filters))
        tiles = api.get_json(urls.api_layer(page.run_id, shown, "sheet.json"), **sheet.params())
    except ApiError as exc:
        return html.P(exc.message)
    return filter_grid(page, layers, shown, filters, tiles)


def evaluation(run: dict[str, Any]) -> Any:
    """The evaluation section of a finished run."""
    try:
        metrics = api_client().get_json(urls.api_metrics(run["id"]))
    except ApiError as exc:
        return html.P(exc.message)
    return evaluation_section(run["id"], metrics, has_twin=run["twin_id"] is not None)


def training(run_id: str) -> tuple[list[dict[str, Any]], str]:
    """The run's history points and the tail of its log (what went wrong, when they fail)."""
    api = api_client()
    try:
        points = list(api.get_json(urls.api_history(run_id))["points"])
    except ApiError:
        points = []  # the curves say "no history yet"; the run's own error is shown above
    try:
        log = str(api.get_json(urls.api_log(run_id), max_bytes=LOG_BYTES)["text"])
    except ApiError as exc:
        log = f"(no log: {exc.message})"
    return points, log or "(the log is empty)"


def run_sections(page: urls.RunPage) -> Sections:
    """Status, curves, log, evaluation and filters of the run, whether to stop refreshing and
    whether to hide all but the status (an unknown run)."""
    try:
        run = api_client().get_json(urls.api_run(page.run_id))
    except ApiError as exc:
        missing = exc.status_code == 404
        shown = not_found(exc.message) if missing else error_box(exc.message)
        return Sections(shown, theme.empty_figure(exc.message), "", None, None, True, missing)
    points, log = training(page.run_id)
    eta = points[-1].get("eta_s") if points else None
    status = run_status(run, eta)
    curves = training_figure(points)
    if run["status"] != "succeeded":
        return Sections(status, curves, log, None, None, run["status"] in FINISHED, False)
    return Sections(status, curves, log, evaluation(run), filters_section(page), True, False)


@callback(
    Output("run-view-status", "children"),
    Output("run-view-curves", "figure"),
    Output("run-view-log", "children"),
    Output("run-view-evaluation", "children"),
    Output("run-view-filters", "children"),
    Output("run-view-refresh", "disabled"),
    Output("run-view-body", "hidden"),
    Input("run-view-refresh", "n_intervals"),
    State("run-view-id", "data"),
    prevent_initial_call=True,
)
def refresh(_n: int | None, state: dict[str, Any]) -> Sections:
    """Every tick until the run is finished: the page's sections afresh."""
    return run_sections(urls.RunPage(**state))


@callback(
    Output("run-view-location", "href"),
    Input("grid-min-peak", "value"),
    State("run-view-id", "data"),
    prevent_initial_call=True,
)
def apply_threshold(value: float | None, state: dict[str, Any]) -> str:
    """A new min-peak threshold: the same view with it in the address (so a link keeps it)."""
    threshold = None if value is None else float(value)
    return replace(urls.RunPage(**state), min_peak=threshold).url()
