"""``/runs/<run_id>``: a run's live status and the grid of its filters."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, callback, dcc, html

from frontend.api_client import ApiError
from frontend.app import api
from frontend.metrics_views import evaluation_section
from frontend.widgets import progress_bar


def layout(run_id: str | None = None, layer: str | None = None, **_query: Any) -> html.Div:
    return html.Div(
        [
            dcc.Store(id="run-view-id", data={"run_id": run_id, "layer": layer}),
            dcc.Interval(id="run-view-refresh", interval=2000),
            html.Div(id="run-view-status"),
            html.Div(id="run-view-evaluation"),
            html.Div(id="run-view-filters"),
        ]
    )


def _status(run: dict[str, Any]) -> html.Div:
    config = run["config"]
    kind = "interpretable" if config["interpretable"] else "ordinary"
    facts = [
        ("architecture", config["arch"]),
        ("kind", kind),
        ("task", config["dataset"]["task"]),
        ("category", config["dataset"].get("category") or "all"),
        ("epochs", f"{run['epoch']} / {config['epochs']}"),
        ("task loss", "" if run["task_loss"] is None else f"{run['task_loss']:.4f}"),
        ("filter loss", "" if run["filter_loss"] is None else f"{run['filter_loss']:.4f}"),
        ("training accuracy", "" if run["accuracy"] is None else f"{run['accuracy']:.3f}"),
        ("images/s", "" if run["images_per_s"] is None else f"{run['images_per_s']:.1f}"),
    ]
    children: list[Any] = [
        html.H2(
            [f"Run {run['id']} ", html.Span(run["status"], className="status", id="run-status")]
        ),
        html.P(run["name"]),
        progress_bar(run),
        html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="facts"),
    ]
    if run["twin_id"]:
        children.append(
            html.P(["Twin: ", dcc.Link(run["twin_id"], href=f"/runs/{run['twin_id']}")])
        )
    if run["error"]:
        children.append(html.Pre(run["error"], className="error"))
    return html.Div(children)


def _filter_grid(run_id: str, layer: str | None) -> Any:
    try:
        features = api().get_json(f"/runs/{run_id}/features")
    except ApiError as exc:
        return html.P(exc.message)
    layers = {item["name"]: item for item in features["layers"]}
    # Default to the top interpretable layer, the one the paper evaluates.
    layer = layer if layer in layers else list(layers)[-1]
    tabs = html.Div(
        [
            dcc.Link(
                name,
                href=f"/runs/{run_id}?layer={name}",
                className="tab active" if name == layer else "tab",
            )
            for name in layers
        ],
        className="tabs",
    )
    cells = []
    for item in api().get_json(f"/runs/{run_id}/layers/{layer}/filters"):
        f, image = item["filter"], item["top_image"]
        href = f"/runs/{run_id}/layers/{layer}/filters/{f}?image={image}"
        src = f"/media/runs/{run_id}/layers/{layer}/filters/{f}/overlay.png?image={image}"
        cells.append(dcc.Link([html.Img(src=src), html.Span(f"#{f}")], href=href, className="cell"))
    return html.Div([html.H3(f"Filters of {layer}"), tabs, html.Div(cells, className="grid")])


@callback(
    Output("run-view-status", "children"),
    Output("run-view-evaluation", "children"),
    Output("run-view-filters", "children"),
    Output("run-view-refresh", "disabled"),
    Input("run-view-refresh", "n_intervals"),
    Input("run-view-id", "data"),
)
def refresh(_n: int | None, ids: dict[str, Any]) -> tuple[Any, Any, Any, bool]:
    run_id = ids["run_id"]
    try:
        run = api().get_json(f"/runs/{run_id}")
    except ApiError as exc:
        return html.Div(exc.message, className="error"), None, None, True
    finished = run["status"] in ("succeeded", "failed", "cancelled")
    if run["status"] != "succeeded":
        return _status(run), None, None, finished
    return _status(run), _evaluation(run), _filter_grid(run_id, ids["layer"]), True


def _evaluation(run: dict[str, Any]) -> Any:
    try:
        metrics = api().get_json(f"/runs/{run['id']}/metrics")
    except ApiError as exc:
        return html.P(exc.message)
    return evaluation_section(run["id"], metrics, has_twin=run["twin_id"] is not None)


dash.register_page(
    __name__,
    path_template="/runs/<run_id>",
    name="Run",
    title="partlens · run",
    layout=layout,
)
