"""``/``: the runs table (live) and the launch form."""

from __future__ import annotations

from typing import Any

import dash
from dash import Input, Output, State, callback, html

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components import runs as view

dash.register_page(__name__, path=urls.RunsPage.PATH, name="Runs", title="partlens · runs", order=0)


def _options(path: str, key: str | None, fallback: list[str]) -> list[str]:
    """The API's choices at ``path`` (under ``key``); ``fallback`` when the API fails."""
    try:
        data = api_client().get_json(path)
    except ApiError:
        return fallback
    return list(data[key] if key else data)


def layout(**_query: Any) -> html.Div:
    """The page, with the architectures and categories the API offers."""
    archs = _options(urls.API_ARCHITECTURES, None, ["tiny"])
    categories = _options(urls.API_BUILTIN_DATASETS, "categories", ["bird"])
    return view.runs_page(archs, categories)


def launch_run(body: dict[str, Any]) -> html.Span:
    """Launch a run with ``body``; the message saying how it went."""
    try:
        run = api_client().post_json(urls.API_RUNS, body)
    except ApiError as exc:
        return view.launch_failed(exc.message)
    return view.launched(run)


def runs_table() -> Any:
    """The runs table as the API lists the runs now (or what went wrong)."""
    try:
        runs = api_client().get_json(urls.API_RUNS)
    except ApiError as exc:
        return view.runs_error(exc.message)
    return view.runs_table(runs)


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
def launch(_n: int, *values: Any) -> html.Span:
    """The launch button: launch a run with the form's values."""
    return launch_run(view.launch_body(*values))


@callback(Output("runs-table", "children"), Input("runs-refresh", "n_intervals"))
def refresh_runs(_n: int | None) -> Any:
    """Every tick: the runs table afresh."""
    return runs_table()
