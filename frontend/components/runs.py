"""The runs page: the launch form, the runs table and the launch outcome."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.common import error_box, fmt_or_blank, progress_bar, run_kind

RUN_COLUMNS = ("run", "name", "arch", "kind", "task", "status", "progress", "train acc.")
TASKS = [
    {"label": "single-category", "value": "single"},
    {"label": "multi-category", "value": "multi"},
]
FLAGS = [
    {"label": " interpretable", "value": "interpretable"},
    {"label": " also launch the ordinary twin", "value": "twin"},
]


def _field(label: str, control: Any) -> html.Label:
    return html.Label([label, control])


def launch_form(archs: list[str], categories: list[str]) -> html.Div:
    """The form that launches a run (and its twin) with the given choices."""
    return html.Div(
        [
            _field("Architecture", dcc.Dropdown(archs, "tiny", id="launch-arch", clearable=False)),
            _field("Task", dcc.Dropdown(TASKS, "single", id="launch-task", clearable=False)),
            _field(
                "Category",
                dcc.Dropdown(categories, categories[0], id="launch-category", clearable=False),
            ),
            _field(
                "Image size",
                dcc.Input(
                    id="launch-image-size",
                    type="number",
                    min=32,
                    max=512,
                    placeholder="the architecture's",
                ),
            ),
            _field("Epochs", dcc.Input(id="launch-epochs", type="number", value=2)),
            _field("Training images", dcc.Input(id="launch-train-size", type="number", value=256)),
            dcc.Checklist(FLAGS, ["interpretable", "twin"], id="launch-flags"),
            html.Button("Launch", id="launch-button", n_clicks=0),
            html.Div(id="launch-message", className="message"),
        ],
        className="launch-form",
    )


def runs_page(archs: list[str], categories: list[str]) -> html.Div:
    """The whole runs page: the launch form, then the (live-refreshed) runs table."""
    return html.Div(
        [
            html.H2("Launch a run"),
            launch_form(archs, categories),
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


def launch_body(
    arch: str,
    task: str,
    category: str,
    image_size: int | None,
    epochs: int | None,
    train_size: int | None,
    flags: list[str],
) -> dict[str, Any]:
    """The API's ``POST /runs`` body for the launch form's values."""
    return {
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


def launched(run: dict[str, Any]) -> html.Span:
    """The message after a launch: a link to the new run."""
    return html.Span(["Launched ", dcc.Link(run["id"], href=urls.RunPage(run["id"]).url())])


def launch_failed(message: str) -> html.Span:
    """The message after a failed launch, with the API's reason."""
    return html.Span(f"Could not launch: {message}", className="error")


def runs_error(message: str) -> html.Div:
    """What the runs table shows when the API cannot list runs."""
    return error_box(message)
