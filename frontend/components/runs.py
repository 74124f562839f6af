"""The runs page: the runs table around the launch form (:mod:`.launch`)."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.common import error_box, fmt_or_blank, progress_bar, run_kind

RUN_COLUMNS = ("run", "name", "arch", "kind", "task", "status", "progress", "train acc.")


def runs_page(form: html.Div) -> html.Div:
    """The whole runs page: the launch form, then the (live-refreshed) runs table."""
    return html.Div(
        [
            html.H2("Launch a run"),
            form,
            html.H2("Runs"),
            dcc.Interval(id="runs-refresh", interval=2000),
            html.Div(id="runs-table"),
        ]
    )


def run_row(run: dict[str, Any]) -> html.Tr:
    """One run as a table row linking to its page."""
    return html.Tr(
        [
            html.Td(dcc.Link(run["id"], href=urls.RunPage(run["id"]).url())),
            html.Td(run["name"]),
            html.Td(run["config"]["arch"]),
            html.Td(run_kind(run)),
            html.Td(run["config"]["dataset"]["task"]),
            html.Td(run["status"], className=f"status status-{run['status']}"),
            html.Td(progress_bar(run)),
            html.Td(fmt_or_blank(run["accuracy"], 3)),
        ]
    )


def runs_table(runs: list[dict[str, Any]]) -> html.Table | html.P:
    """All runs, in the order the API lists them; a hint when there are none."""
    if not runs:
        return html.P("No runs yet: launch one above.")
    header = html.Thead(html.Tr([html.Th(column) for column in RUN_COLUMNS]))
    return html.Table([header, html.Tbody([run_row(run) for run in runs])], className="runs")


def runs_error(message: str) -> html.Div:
    """What the runs table shows when the API cannot list runs."""
    return error_box(message)
