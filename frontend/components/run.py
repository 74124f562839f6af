"""The run page: status and facts, training curves, log tail (the grid: :mod:`.grid`)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any, NamedTuple

import plotly.graph_objects as go
from dash import dcc, html

from frontend import urls
from frontend.components.charts import CURVES_HEIGHT, graph
from frontend.components.common import fmt_duration, fmt_or_blank, progress_bar, run_kind

FINISHED = ("succeeded", "failed", "cancelled")


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
                    # Its height from the start: Dash draws the graph only once its code has
                    # loaded, and the charts below must not seem in view meanwhile.
                    html.Div(
                        graph(sections.curves, "run-view-curves"),
                        style={"minHeight": f"{CURVES_HEIGHT + 2}px"},
                    ),
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
