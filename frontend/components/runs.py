"""The runs page: the runs table (sortable, filterable, paged) under the launch form
(:mod:`.launch`).

The table's order, filters and page are in the address (:class:`urls.RunsPage`): every header
and pill is a link to the same page with one value changed, so a copied link shows the same
table; the dropdowns and the search box change the address through a callback.
"""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any, NamedTuple

from dash import dcc, html

from frontend import urls
from frontend.components.common import (
    NO_VALUE,
    error_box,
    fmt,
    offset_pager,
    option_pills,
    progress_bar,
    run_kind,
)

PAGE_SIZE = 25
# (header, the order its click asks for, None: not sortable), in column order.
COLUMNS: tuple[tuple[str, urls.RunsSort | None], ...] = (
    ("run", "created"),
    ("name", "name"),
    ("arch", None),
    ("dataset", None),
    ("task", None),
    ("kind", None),
    ("status", "status"),
    ("test acc.", "accuracy"),
    ("D ↓", "location_instability"),
    ("P ↑", "part_interpretability"),
    ("twin", None),
)
COLUMN_TITLES = {
    "created": "by creation time",
    "accuracy": "test accuracy of the evaluated run",
    "location_instability": "location instability D of the top layer (lower is better)",
    "part_interpretability": "part interpretability P of the top layer (higher is better)",
}
# The direction a first click on a header asks for: the best (or newest) first.
FIRST_DESCENDING: dict[urls.RunsSort, bool] = {
    "created": True,
    "name": False,
    "status": False,
    "accuracy": True,
    "location_instability": False,
    "part_interpretability": True,
}
ACTIVE = ("queued", "running")


class RunsListing(NamedTuple):
    """A page of runs as the API lists them, and how many match in all."""

    runs: list[dict[str, Any]]
    total: int


def fmt_eta(seconds: float | None) -> str:
    """``seconds`` left as ``45 s left``, ``3 m 20 s left`` or ``1 h 5 m left``; empty when
    unknown."""
    if seconds is None:
        return ""
    whole = max(0, round(seconds))
    if whole < 60:
        return f"{whole} s left"
    minutes, secs = divmod(whole, 60)
    if minutes < 60:
        return f"{minutes} m {secs} s left"
    return f"{minutes // 60} h {minutes % 60} m left"


def status_cell(run: dict[str, Any]) -> html.Td:
    """The run's status; while it is queued or running, its progress bar and ETA too."""
    status = run["status"]
    shown: list[Any] = [html.Span(status, className=f"status status-{status}")]
    if status in ACTIVE:
        shown += [progress_bar(run), html.Span(fmt_eta(run.get("eta_s")), className="muted eta")]
    return html.Td(shown, className="status-cell")


def task_label(run: dict[str, Any]) -> str:
    """``single · <category>`` for a single-category run, else the task."""
    dataset = run["config"]["dataset"]
    category = dataset.get("category")
    return f"single · {category}" if dataset["task"] == "single" and category else dataset["task"]


def twin_cell(run: dict[str, Any]) -> html.Td:
    """Links to the run's twin and to the comparison of the two; a dash without a twin."""
    twin = run.get("twin_id")
    if not twin:
        return html.Td(NO_VALUE, className="muted")
    return html.Td(
        [
            dcc.Link(twin, href=urls.RunPage(twin).url(), title="the twin's run page"),
            dcc.Link("compare", href=urls.ComparePage(run["id"]).url(), title="side by side"),
        ],
        className="twin",
    )


def run_row(run: dict[str, Any]) -> html.Tr:
    """One run as a table row linking to its page, its twin and their comparison."""
    summary = run.get("summary") or {}
    numbers = ("test_accuracy", "location_instability", "part_interpretability")
    return html.Tr(
        [
            html.Td(dcc.Link(run["id"], href=urls.RunPage(run["id"]).url()), className="id"),
            html.Td(run["name"], className="name"),
            html.Td(run["config"]["arch"]),
            html.Td(run["config"]["dataset"]["name"]),
            html.Td(task_label(run)),
            html.Td(run_kind(run), className="kind"),
            status_cell(run),
            *(html.Td(fmt(summary.get(key)), className="num") for key in numbers),
            twin_cell(run),
        ]
    )


def _header(page: urls.RunsPage, label: str, sort: urls.RunsSort | None) -> html.Th:
    """A column header; a sortable one links to the table in its order (clicked again: the
    other direction), with an arrow on the current one."""
    if sort is None:
        return html.Th(label)
    current = page.sort == sort
    desc = not page.desc if current else FIRST_DESCENDING[sort]
    arrow = (" ▼" if page.desc else " ▲") if current else ""
    link = dcc.Link(
        f"{label}{arrow}",
        href=replace(page, sort=sort, desc=desc, offset=0).url(),
        id=f"runs-sort-{sort}",
        title=COLUMN_TITLES.get(sort, f"by {label}"),
        className="sort active" if current else "sort",
    )
    return html.Th(link, className="sortable")


def pager(page: urls.RunsPage, shown: int, total: int) -> html.Div:
    """Where this page lies among the matching runs, with links to the pages around it."""
    return offset_pager(page, shown, total, size=PAGE_SIZE, noun="runs", id_prefix="runs")


def runs_table(page: urls.RunsPage, listing: RunsListing) -> html.Div | html.P:
    """A page of the runs in the page's order, with the pager; a hint when there are none."""
    if not listing.runs:
        if page.filtered() or page.offset:
            clear = dcc.Link("show all runs", href=urls.RunsPage(page.sort, page.desc).url())
            return html.P(["No runs match these filters: ", clear], id="runs-empty")
        return html.P("No runs yet: launch one above.", id="runs-empty")
    header = html.Thead(html.Tr([_header(page, label, sort) for label, sort in COLUMNS]))
    body = html.Tbody([run_row(run) for run in listing.runs])
    return html.Div(
        [
            pager(page, len(listing.runs), listing.total),
            html.Div(html.Table([header, body], className="runs"), className="table-box"),
        ]
    )


def _dropdown(id: str, options: list[str], value: str | None, placeholder: str) -> dcc.Dropdown:
    # A value the API no longer offers stays choosable: the address may carry it.
    shown = options if value is None or value in options else [*options, value]
    return dcc.Dropdown(
        id=id,
        options=shown,
        value=value,
        placeholder=placeholder,
        clearable=True,
        className="runs-filter",
    )


def filter_controls(page: urls.RunsPage, archs: list[str], datasets: list[str]) -> html.Div:
    """Pills keeping the runs of one status or kind; dropdowns for the architecture and the
    dataset; a search box over names and ids (Enter or leaving it applies it)."""
    statuses: dict[Any, str] = {None: "any"} | {status: status for status in urls.RUN_STATUSES}
    kinds: dict[Any, str] = {None: "any"} | {kind: kind for kind in urls.RUN_KINDS}
    search = dcc.Input(
        id="runs-filter-q",
        type="search",
        value=page.q or "",
        debounce=True,
        placeholder="name or id contains",
        className="runs-search",
    )
    return html.Div(
        [
            option_pills(page, "status", statuses, page.status, "status", "runs"),
            option_pills(page, "kind", kinds, page.kind, "kind", "runs"),
            html.Div(
                [
                    _dropdown("runs-filter-arch", archs, page.arch, "any architecture"),
                    _dropdown("runs-filter-dataset", datasets, page.dataset, "any dataset"),
                    search,
                ],
                className="runs-filters",
            ),
        ],
        id="runs-controls",
    )


def runs_page(form: html.Div, page: urls.RunsPage, controls: html.Div, table: Any) -> html.Div:
    """The whole runs page: the launch form, then the runs table's controls and the table,
    refreshed live in the page's order and filter."""
    return html.Div(
        [
            html.H2("Launch a run"),
            form,
            html.H2("Runs"),
            dcc.Store(id="runs-query", data=asdict(page)),
            # callback-nav: a dropdown or the search box changes the address, not the page.
            dcc.Location(id="runs-location", refresh="callback-nav"),
            dcc.Interval(id="runs-refresh", interval=2000),
            controls,
            html.Div(table, id="runs-table"),
        ]
    )


def runs_error(message: str) -> html.Div:
    """What the runs table shows when the API cannot list runs."""
    return error_box(message)
