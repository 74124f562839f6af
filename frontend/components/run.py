"""The run page: status and facts, training curves, log tail, and one layer's filter grid."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any, NamedTuple

import plotly.graph_objects as go
from dash import dcc, html

from frontend import urls
from frontend.components.charts import graph
from frontend.components.common import fmt_duration, fmt_or_blank, progress_bar, run_kind

FINISHED = ("succeeded", "failed", "cancelled")
SORT_LABELS = {"filter": "filter index", "peak": "peak", "mean": "mean activation"}
SHEET_COLUMNS = 10  # 10 tiles of 96 px fit the page's content width at 1200 px
SHEET_TILE = 96
SHEET_LIMIT = 512  # the API's largest page: one sheet shows a 512-filter layer at once


class Sections(NamedTuple):
    """What the run page shows, in the order of its refresh callback's outputs."""

    status: Any
    curves: go.Figure
    log: str
    evaluation: Any
    filters: Any
    finished: bool  # stops the refresh
    missing: bool  # an unknown run: the status alone says so


def run_page(page: urls.RunPage, sections: Sections) -> html.Div:
    """The run page with its sections; while the run is unfinished a timer refreshes them."""
    return html.Div(
        [
            dcc.Store(id="run-view-id", data=asdict(page)),
            # callback-nav: a new grid threshold changes the address without reloading.
            dcc.Location(id="run-view-location", refresh="callback-nav"),
            dcc.Interval(id="run-view-refresh", interval=2000, disabled=sections.finished),
            html.Div(sections.status, id="run-view-status"),
            html.Div(
                [
                    html.H3("Training"),
                    graph(sections.curves, "run-view-curves"),
                    html.Details(
                        [
                            html.Summary("Run log"),
                            html.Pre(sections.log, id="run-view-log", className="log"),
                        ],
                        open=True,
                    ),
                    html.Div(sections.evaluation, id="run-view-evaluation"),
                    html.Div(sections.filters, id="run-view-filters"),
                ],
                id="run-view-body",
                hidden=sections.missing,
            ),
        ],
        id="run-view",
    )


def run_facts(run: dict[str, Any], eta_s: float | None) -> html.Dl:
    """The run's configuration, training figures and execution as a definition list."""
    config = run["config"]
    eta = fmt_duration(eta_s) if run["status"] == "running" else ""
    facts = [
        ("architecture", config["arch"]),
        ("kind", run_kind(run)),
        ("task", config["dataset"]["task"]),
        ("category", config["dataset"].get("category") or "all"),
        ("epochs", f"{run['epoch']} / {config['epochs']}"),
        ("steps", f"{run.get('step', 0)} / {run.get('steps_total', 0)}"),
        ("task loss", fmt_or_blank(run["task_loss"], 4)),
        ("filter loss", fmt_or_blank(run["filter_loss"], 4)),
        ("training accuracy", fmt_or_blank(run["accuracy"], 3)),
        ("images/s", fmt_or_blank(run["images_per_s"], 1)),
        ("ETA", eta),
        ("queue", run.get("queue") or ""),
        ("worker", run.get("worker_id") or ""),
        ("attempts", str(run.get("attempts", 0))),
        ("training time", fmt_duration(run.get("train_s"))),
        ("evaluation time", fmt_duration(run.get("evaluate_s"))),
    ]
    return html.Dl([item for k, v in facts for item in (html.Dt(k), html.Dd(v))], className="facts")


def run_status(run: dict[str, Any], eta_s: float | None = None) -> html.Div:
    """The run's title and status, its progress, its facts, its twin and its error."""
    children: list[Any] = [
        html.H2(
            [
                f"Run {run['id']} ",
                html.Span(
                    run["status"], className=f"status status-{run['status']}", id="run-status"
                ),
            ]
        ),
        html.P(run["name"]),
        progress_bar(run),
        run_facts(run, eta_s),
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


def sheet_of(page: urls.RunPage, layer: str, n_filters: int) -> urls.SheetImage:
    """The contact sheet of ``layer`` in the page's order, every filter on one image."""
    limit = max(1, min(n_filters, SHEET_LIMIT))
    return urls.SheetImage(
        page.run_id, layer, page.sort, page.desc, limit, SHEET_COLUMNS, SHEET_TILE
    )


def layer_tabs(page: urls.RunPage, layers: list[str], active: str) -> html.Div:
    """One link per layer of the run (keeping the sort); the shown one marked active."""
    return html.Div(
        [
            dcc.Link(
                name,
                href=replace(page, layer=name).url(),
                className="pill active" if name == active else "pill",
            )
            for name in layers
        ],
        className="pills",
    )


def sort_controls(page: urls.RunPage) -> html.Div:
    """Links choosing the grid's order and direction, and its min-peak threshold."""
    order = [
        dcc.Link(
            label,
            href=replace(page, sort=key).url(),
            className="pill active" if key == page.sort else "pill",
            id=f"grid-sort-{key}",
        )
        for key, label in SORT_LABELS.items()
    ]
    direction = "descending" if page.desc else "ascending"
    flip = replace(page, desc=not page.desc).url()
    return html.Div(
        [
            html.Span("sort by", className="muted"),
            *order,
            dcc.Link(f"{direction} (flip)", href=flip, className="pill", id="grid-direction"),
            html.Label(
                [
                    "grey out peak below ",
                    dcc.Input(
                        id="grid-min-peak",
                        type="number",
                        value=page.min_peak,
                        debounce=True,
                        step="any",
                        placeholder="none",
                    ),
                ],
                className="threshold",
            ),
        ],
        className="pills sort",
    )


def tile(view: urls.FilterPage, position: int, dimmed: bool) -> dcc.Link:
    """A transparent link over tile ``position`` of the sheet, labelled with its filter."""
    row, col = divmod(position, SHEET_COLUMNS)
    style = {
        "left": f"{col * SHEET_TILE}px",
        "top": f"{row * SHEET_TILE}px",
        "width": f"{SHEET_TILE}px",
        "height": f"{SHEET_TILE}px",
    }
    return dcc.Link(
        html.Span(f"#{view.filter_index}", className="tile-label"),
        href=view.url(),
        className="cell dimmed" if dimmed else "cell",
        style=style,
    )


def filter_grid(
    page: urls.RunPage,
    layers: list[str],
    layer: str,
    filters: list[dict[str, Any]],
    sheet: dict[str, Any],
) -> html.Div:
    """The layer's filters as one contact sheet with a link over each tile.

    ``filters`` is the API's summary of the layer (top image, peak, ...), ``sheet`` the
    ``sheet.json`` of the sheet image: which filter each tile shows.
    """
    summary = {item["filter"]: item for item in filters}
    image = sheet_of(page, layer, len(filters))
    threshold = page.min_peak
    tiles = []
    for position, f in enumerate(sheet["filters"]):
        view = urls.FilterPage(page.run_id, layer, f, summary[f]["top_image"])
        dimmed = threshold is not None and summary[f]["peak"] < threshold
        tiles.append(tile(view, position, dimmed))
    kept = sum(1 for item in filters if threshold is None or item["peak"] >= threshold)
    count = f"{len(sheet['filters'])} of {sheet['total']} filters"
    if threshold is not None:
        count += f" · {kept} with peak ≥ {threshold:g}"
    size = {
        "width": f"{sheet['columns'] * sheet['tile']}px",
        "height": f"{sheet['rows'] * sheet['tile']}px",
    }
    picture = html.Img(src=image.url(), className="sheet-image", alt=f"filters of {layer}")
    return html.Div(
        [
            html.H3(f"Filters of {layer}"),
            layer_tabs(page, layers, layer),
            sort_controls(page),
            html.P(count, className="muted", id="grid-count"),
            html.Div([picture, *tiles], className="grid sheet", style=size),
        ]
    )
