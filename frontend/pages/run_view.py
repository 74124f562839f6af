"""``/runs/<run_id>``: a run's live status, training curves and log, and its filter grid."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html, no_update

from frontend import theme, urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.charts import training_figure
from frontend.components.common import absent_reason, error_box, not_found, part_metrics
from frontend.components.grid import (
    LayerPage,
    filter_grid,
    list_params,
    page_size,
    sheet_of,
    shown_layer,
    uses_sheet,
)
from frontend.components.heatmaps import fetch_heats
from frontend.components.metrics import CHARTS_ID, evaluation_charts, evaluation_section
from frontend.components.run import FINISHED, Sections, run_page, run_status

# After the compare and filter pages, whose templates this one's would match too.
dash.register_page(
    __name__, path_template=urls.RunPage.TEMPLATE, name="Run", title="partlens · run", order=4
)

LOG_BYTES = 16_000  # the tail a reader scrolls through; the whole log stays on disk


def layout(
    run_id: str | None = None,
    layer: Any = None,
    sort: Any = "filter",
    desc: Any = None,
    min_peak: Any = None,
    part: Any = None,
    category: Any = None,
    offset: Any = None,
    **_query: Any,
) -> html.Div:
    """The page as it is now; :func:`refresh` keeps it live while the run is unfinished.

    A finished run's page arrives whole with the layout: no callback round trip before it shows.
    """
    page = urls.RunPage.from_dash(run_id, layer, sort, desc, min_peak, part, category, offset)
    if page is None:
        return not_found(f"Bad run address: a run page is {urls.RunPage.SHAPE}")
    return run_page(page, run_sections(page))


def listed_filters(page: urls.RunPage, layer: str) -> LayerPage:
    """The page's filters of ``layer`` as the API lists them, in the page's order and filter.

    An API that sends no ``X-Total-Count`` listed the whole layer: the page is cut from it.
    """
    path = urls.api_layer_filters(page.run_id, layer)
    items, total = api_client().get_page(path, **list_params(page))
    if total is None:
        return LayerPage(items[page.offset : page.offset + page_size(page)], len(items))
    return LayerPage(items, total)


def grid_choices(metrics: dict[str, Any] | None, layer: str) -> tuple[list[str], list[str]]:
    """The parts and target categories the grid can keep (none before the evaluation)."""
    if metrics is None or layer not in metrics["layers"]:
        return [], []
    entry = metrics["layers"][layer]
    categories = list(metrics.get("categories", [])) if "target_category" in entry else []
    parts = part_metrics(metrics, layer) or {}
    return list(parts.get("parts", [])), categories


def absent_part_scores(metrics: dict[str, Any] | None, layer: str) -> str | None:
    """Why the grid cannot order by P_f or keep a best part: None when it can (or the run is
    not evaluated, when the API's list says so itself)."""
    if metrics is None or layer not in metrics["layers"] or part_metrics(metrics, layer):
        return None
    return absent_reason(metrics)


def grid_error(page: urls.RunPage, message: str) -> html.Div:
    """Why the grid cannot be shown (e.g. an order the run has no scores for), with the way
    back to the grid in its default order (the layer kept)."""
    plain = urls.RunPage(page.run_id, page.layer)
    back: list[Any] = []
    if plain != page:
        back = [dcc.Link("show the grid by filter index", href=plain.url(), id="grid-reset")]
    return html.Div([html.P(message, className="error", id="grid-error"), *back])


def filters_section(page: urls.RunPage, metrics: dict[str, Any] | None = None) -> Any:
    """The grid of the page's layer (None or unknown: the top layer)."""
    api = api_client()
    try:
        features = api.get_json(urls.api_features(page.run_id))
        layers = [item["name"] for item in features["layers"]]
        shown = shown_layer(layers, page.layer)
        listed = listed_filters(page, shown)
        sheet = None
        if uses_sheet(page) and listed.total > page.offset:
            image = sheet_of(page, shown, listed.total)
            sheet = api.get_json(urls.api_layer(page.run_id, shown, "sheet.json"), **image.params())
    except ApiError as exc:
        return grid_error(page, exc.message)
    choices = grid_choices(metrics, shown)
    return filter_grid(
        page, layers, shown, listed, sheet, choices, absent_part_scores(metrics, shown)
    )


def evaluation(run: dict[str, Any]) -> tuple[Any, dict[str, Any] | None]:
    """The evaluation section of a finished run, and its metrics (None when they fail)."""
    try:
        metrics = api_client().get_json(urls.api_metrics(run["id"]))
    except ApiError as exc:
        return html.P(exc.message), None
    return evaluation_section(run["id"], metrics, run["twin_id"] is not None), metrics


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
    shown, metrics = evaluation(run)
    return Sections(status, curves, log, shown, filters_section(page, metrics), True, False)


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
    Output(CHARTS_ID, "children"),
    Input(f"{CHARTS_ID}-seen", "data"),
    State("run-view-id", "data"),
    prevent_initial_call=True,
)
def draw_charts(seen: bool, state: dict[str, Any]) -> Any:
    """The evaluation's charts scrolled into view: best parts, RF radius, Fig. 6."""
    if not seen:
        return no_update
    api = api_client()
    run_id = state["run_id"]
    try:
        metrics = api.get_json(urls.api_metrics(run_id))
    except ApiError as exc:
        return html.P(exc.message)
    heats = fetch_heats(api, run_id, list(metrics.get("heatmaps", {})))
    return evaluation_charts(run_id, metrics, heats)


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
