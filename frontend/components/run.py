"""The run page: the run's status and facts, and the grid of one layer's filters."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.common import fmt_or_blank, progress_bar, run_kind

FINISHED = ("succeeded", "failed", "cancelled")


def run_skeleton(page: urls.RunPage) -> html.Div:
    """The run page before data: the view's ids and the live-refreshed sections."""
    return html.Div(
        [
            dcc.Store(id="run-view-id", data={"run_id": page.run_id, "layer": page.layer}),
            dcc.Interval(id="run-view-refresh", interval=2000),
            html.Div(id="run-view-status"),
            html.Div(id="run-view-evaluation"),
            html.Div(id="run-view-filters"),
        ]
    )


def run_facts(run: dict[str, Any]) -> html.Dl:
    """The run's configuration and training figures as a definition list."""
    config = run["config"]
    facts = [
        ("architecture", config["arch"]),
        ("kind", run_kind(run)),
        ("task", config["dataset"]["task"]),
        ("category", config["dataset"].get("category") or "all"),
        ("epochs", f"{run['epoch']} / {config['epochs']}"),
        ("task loss", fmt_or_blank(run["task_loss"], 4)),
        ("filter loss", fmt_or_blank(run["filter_loss"], 4)),
        ("training accuracy", fmt_or_blank(run["accuracy"], 3)),
        ("images/s", fmt_or_blank(run["images_per_s"], 1)),
    ]
    return html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="facts")


def run_status(run: dict[str, Any]) -> html.Div:
    """The run's title and status, its progress, its facts, its twin and its error."""
    children: list[Any] = [
        html.H2(
            [f"Run {run['id']} ", html.Span(run["status"], className="status", id="run-status")]
        ),
        html.P(run["name"]),
        progress_bar(run),
        run_facts(run),
    ]
    if run["twin_id"]:
        twin = dcc.Link(run["twin_id"], href=urls.RunPage(run["twin_id"]).url())
        children.append(html.P(["Twin: ", twin]))
    if run["error"]:
        children.append(html.Pre(run["error"], className="error"))
    return html.Div(children)


def shown_layer(layers: list[str], wanted: str | None) -> str:
    """The layer the grid shows: ``wanted`` if the run has it, else the top one."""
    # The top interpretable layer is the one the paper evaluates.
    return wanted if wanted in layers else layers[-1]


def layer_tabs(run_id: str, layers: list[str], active: str) -> html.Div:
    """One link per layer of the run; the shown one marked active."""
    return html.Div(
        [
            dcc.Link(
                name,
                href=urls.RunPage(run_id, name).url(),
                className="tab active" if name == active else "tab",
            )
            for name in layers
        ],
        className="tabs",
    )


def filter_cell(run_id: str, layer: str, item: dict[str, Any]) -> dcc.Link:
    """A filter on its best image, linking to that filter view."""
    view = urls.FilterPage(run_id, layer, item["filter"], item["top_image"])
    src = urls.OverlayImage(run_id, layer, view.filter_index, view.image).url()
    return dcc.Link(
        [html.Img(src=src), html.Span(f"#{view.filter_index}")], href=view.url(), className="cell"
    )


def filter_grid(
    run_id: str, layers: list[str], layer: str, filters: list[dict[str, Any]]
) -> html.Div:
    """The layer tabs and the grid of ``layer``'s filters (``filters``: the API's summary)."""
    return html.Div(
        [
            html.H3(f"Filters of {layer}"),
            layer_tabs(run_id, layers, layer),
            html.Div([filter_cell(run_id, layer, item) for item in filters], className="grid"),
        ]
    )
