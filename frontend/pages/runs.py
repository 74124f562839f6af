"""``/``: the runs table (live) and the launch form."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, dcc, html

from frontend.api_client import ApiError
from frontend.app import api
from frontend.widgets import progress_bar


def _options(path: str, key: str | None = None, fallback: list[str] | None = None) -> list[str]:
    try:
        data = api().get_json(path)
    except ApiError:
        return fallback or []
    return data[key] if key else data


def layout(**_query: Any) -> html.Div:
    archs = _options("/architectures", fallback=["tiny"])
    categories = _options("/datasets/builtin", "categories", fallback=["bird"])
    return html.Div(
        [
            html.H2("Launch a run"),
            html.Div(
                [
                    html.Label(
                        [
                            "Architecture",
                            dcc.Dropdown(archs, "tiny", id="launch-arch", clearable=False),
                        ]
                    ),
                    html.Label(
                        [
                            "Task",
                            dcc.Dropdown(
                                [
                                    {"label": "single-category", "value": "single"},
                                    {"label": "multi-category", "value": "multi"},
                                ],
                                "single",
                                id="launch-task",
                                clearable=False,
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Category",
                            dcc.Dropdown(
                                categories, categories[0], id="launch-category", clearable=False
                            ),
                        ]
                    ),
                    html.Label(
                        [
                            "Image size",
                            dcc.Input(
                                id="launch-image-size",
                                type="number",
                                min=32,
                                max=512,
                                placeholder="the architecture's",
                            ),
                        ]
                    ),
                    html.Label(["Epochs", dcc.Input(id="launch-epochs", type="number", value=2)]),
                    html.Label(
                        [
                            "Training images",
                            dcc.Input(id="launch-train-size", type="number", value=256),
                        ]
                    ),
                    dcc.Checklist(
                        [
                            {"label": " interpretable", "value": "interpretable"},
                            {"label": " also launch the ordinary twin", "value": "twin"},
                        ],
                        ["interpretable", "twin"],
                        id="launch-flags",
                    ),
                    html.Button("Launch", id="launch-button", n_clicks=0),
                    html.Div(id="launch-message", className="message"),
                ],
                className="launch-form",
            ),
            html.H2("Runs"),
            dcc.Interval(id="runs-refresh", interval=2000),
            html.Div(id="runs-table"),
        ]
    )


@callback(
    Output("launch-message", "children"),
    Input("launch-button", "n_clicks"),
    State("launch-arch", "value"),
    State("launch-task", "value"),
    State("launch-category", "value"),
    State("launch-image-size", "value"),
    State("launch-epochs", "value"),
    State("launch-train-size", "value"),
    State("launch-flags", "value"),
    prevent_initial_call=True,
)
def launch(
    _n: int,
    arch: str,
    task: str,
    category: str,
    image_size: int | None,
    epochs: int | None,
    train_size: int | None,
    flags: list[str],
) -> Any:
    body = {
        "arch": arch,
        "interpretable": "interpretable" in flags,
        "with_twin": "twin" in flags,
        "epochs": epochs,
        "dataset": {
            "task": task,
            "category": category,
            "image_size": image_size,
            "train_size": train_size,
        },
    }
    try:
        run = api().post_json("/runs", body)
    except ApiError as exc:
        return html.Span(f"Could not launch: {exc.message}", className="error")
    return html.Span(["Launched ", dcc.Link(run["id"], href=f"/runs/{run['id']}")])


@callback(Output("runs-table", "children"), Input("runs-refresh", "n_intervals"))
def refresh_runs(_n: int | None) -> Any:
    try:
        runs = api().get_json("/runs")
    except ApiError as exc:
        return html.Div(exc.message, className="error")
    if not runs:
        return html.P("No runs yet: launch one above.")
    header = html.Tr(
        [
            html.Th(h)
            for h in ("run", "name", "arch", "kind", "task", "status", "progress", "train acc.")
        ]
    )
    rows = [
        html.Tr(
            [
                html.Td(dcc.Link(run["id"], href=f"/runs/{run['id']}")),
                html.Td(run["name"]),
                html.Td(run["config"]["arch"]),
                html.Td("interpretable" if run["config"]["interpretable"] else "ordinary"),
                html.Td(run["config"]["dataset"]["task"]),
                html.Td(run["status"], className=f"status status-{run['status']}"),
                html.Td(progress_bar(run)),
                html.Td("" if run["accuracy"] is None else f"{run['accuracy']:.3f}"),
            ]
        )
        for run in runs
    ]
    return html.Table([html.Thead(header), html.Tbody(rows)], className="runs")


dash.register_page(__name__, path="/", name="Runs", title="partlens · runs", layout=layout)
