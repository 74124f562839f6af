"""``/``: the runs table (live) and the launch form."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import dash
from dash import Input, Output, State, callback, html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components import launch as form
from frontend.components import runs as view
from frontend.components.common import not_found

dash.register_page(__name__, path=urls.RunsPage.PATH, name="Runs", title="partlens · runs", order=0)

FALLBACK_DATASETS = [{"name": "builtin", "categories": ["bird"]}]
ERROR_KEYS = ("preset", *form.FIELD_KEYS)


def _fetch(path: str, fallback: Any) -> Any:
    """The API's answer at ``path``; ``fallback`` when the API fails (the form still shows)."""
    try:
        return api_client().get_json(path)
    except ApiError:
        return fallback


def choices() -> form.Choices:
    """What the API offers the launch form now."""
    archs = _fetch(urls.API_ARCHITECTURES, ["tiny"])
    datasets = _fetch(urls.API_DATASETS, FALLBACK_DATASETS)
    weights = _fetch(urls.API_WEIGHTS, [])
    presets = _fetch(urls.API_PRESETS, [])
    losses = _fetch(urls.API_FILTER_LOSSES, ["assigned-mi"])
    datasets = [{"name": d["name"], "categories": d["categories"]} for d in datasets]
    weights = [{"name": w["name"], "arch": w["arch"]} for w in weights]
    return form.Choices(archs, datasets, weights, presets, losses)


def layout(**query: Any) -> html.Div:
    """The page, with the choices the API offers and the runs table the query asks for."""
    page = urls.RunsPage.from_dash(
        **{key: query[key] for key in urls.RunsPage.QUERY if key in query}
    )
    if page is None:
        return not_found(f"Bad runs address: the runs page is {urls.RunsPage.SHAPE}")
    offered = choices()
    datasets = [dataset["name"] for dataset in offered.datasets]
    controls = view.filter_controls(page, list(offered.archs), datasets)
    return view.runs_page(form.launch_form(offered), page, controls, runs_table(page))


def launch_run(body: dict[str, Any]) -> tuple[Any, dict[str, str]]:
    """Launch a run with ``body``: the message saying how it went, and the error at each field
    the API rejected."""
    try:
        run = api_client().post_json(urls.API_RUNS, body)
    except ApiError as exc:
        at_field, elsewhere = form.field_messages(exc.fields)
        message = "; ".join(elsewhere) if at_field and elsewhere else exc.message
        return form.launch_failed(message), at_field
    return form.launched(run), {}


def runs_table(page: urls.RunsPage) -> Any:
    """The runs table of ``page`` as the API lists the runs now (or what went wrong).

    An API that sends no ``X-Total-Count`` listed every matching run: the page is cut from it.
    """
    try:
        runs, total = api_client().get_page(urls.API_RUNS, **page.api_params(view.PAGE_SIZE))
    except ApiError as exc:
        return view.runs_error(exc.message)
    if total is None:
        listing = view.RunsListing(runs[page.offset : page.offset + view.PAGE_SIZE], len(runs))
    else:
        listing = view.RunsListing(runs, total)
    return view.runs_table(page, listing)


@callback(
    Output("launch-message", "children"),
    *[Output(f"launch-error-{key}", "children") for key in ERROR_KEYS],
    Input("launch-button", "n_clicks"),
    State("launch-preset", "value"),
    State("launch-flags", "value"),
    *[State(f"launch-{key}", "value") for key in form.FIELD_KEYS],
    prevent_initial_call=True,
)
def launch(_n: int, preset: str | None, flags: list[str], *values: Any) -> tuple[Any, ...]:
    """The launch button: launch a run with the form's values; errors next to their fields."""
    body = form.launch_body(preset, flags or [], dict(zip(form.FIELD_KEYS, values, strict=True)))
    message, at_field = launch_run(body)
    return (message, *(at_field.get(key, "") for key in ERROR_KEYS))


PRESET_KEYS = ("arch", "task", "epochs", "lr", "batch", "image-size", "train-size")


@callback(
    Output("launch-preset-description", "children"),
    *[Output(f"launch-{key}", "value") for key in PRESET_KEYS],
    Output("launch-flags", "value"),
    Input("launch-preset", "value"),
    State("launch-choices", "data"),
    State("launch-flags", "value"),
    prevent_initial_call=True,
)
def apply_preset(name: str | None, data: dict[str, Any], flags: list[str]) -> tuple[Any, ...]:
    """A chosen preset fills the fields it sets (they stay editable); the others keep theirs."""
    preset = next((p for p in data["presets"] if p["name"] == name), None)
    if preset is None:
        return ("", *(no_update for _ in PRESET_KEYS), no_update)
    values = form.preset_values(preset)
    twin = preset["values"].get("with_twin")
    kept = [flag for flag in flags or [] if flag != "twin"]
    new_flags = [*kept, "twin"] if twin else (kept if twin is False else no_update)
    fields = (values.get(key, no_update) for key in PRESET_KEYS)
    return (preset["description"], *fields, new_flags)


@callback(
    Output("launch-category", "options"),
    Output("launch-category", "value"),
    Output("launch-dataset-link", "href"),
    Input("launch-dataset", "value"),
    State("launch-choices", "data"),
    State("launch-category", "value"),
    prevent_initial_call=True,
)
def dataset_categories(name: str, data: dict[str, Any], current: str | None) -> tuple[Any, ...]:
    """The chosen dataset's categories (keeping the current one when it has it)."""
    categories = form.categories_of(data["datasets"], name)
    value = current if current in categories else (categories[0] if categories else None)
    return categories, value, urls.DatasetPage(name).url()


@callback(
    Output("runs-table", "children"),
    Input("runs-refresh", "n_intervals"),
    State("runs-query", "data"),
    prevent_initial_call=True,  # the layout has the table already
)
def refresh_runs(_n: int | None, state: dict[str, Any]) -> Any:
    """Every tick: the runs table afresh, in the page's order and filter."""
    return runs_table(urls.RunsPage(**state))


@callback(
    Output("runs-location", "href"),
    Input("runs-filter-arch", "value"),
    Input("runs-filter-dataset", "value"),
    Input("runs-filter-q", "value"),
    State("runs-query", "data"),
    prevent_initial_call=True,
)
def apply_filters(
    arch: str | None, dataset: str | None, q: str | None, state: dict[str, Any]
) -> Any:
    """A new architecture, dataset or search text: the same table with it in the address (so a
    link keeps it), from its first page."""
    page = urls.RunsPage(**state)
    chosen = replace(page, arch=arch or None, dataset=dataset or None, q=(q or "").strip() or None)
    if chosen == page:
        return no_update
    return replace(chosen, offset=0).url()
