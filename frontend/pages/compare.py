"""``/runs/<run_id>/compare``: a run and its twin side by side (metrics, ratios, heat maps)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.compare import compare_view

dash.register_page(
    __name__,
    path_template=urls.ComparePage.TEMPLATE,
    name="Compare",
    title="partlens · compare",
    order=1,
)

KINDS = ("interpretable", "ordinary")


def layout(run_id: str | None = None, **_query: Any) -> html.Div:
    """The comparison of the run with its twin, or what went wrong."""
    page = urls.ComparePage.from_dash(run_id)
    if page is None:
        return not_found(f"Bad compare address: run {run_id!r}")
    api = api_client()
    try:
        comparison = api.get_json(urls.api_comparison(page.run_id))
        sides = {kind: api.get_json(urls.api_metrics(comparison[kind]["run_id"])) for kind in KINDS}
    except ApiError as exc:
        if exc.status_code == 404:  # an unknown run, or one without twin
            return not_found(exc.message)
        return error_box(exc.message, id="compare-error")
    return compare_view(comparison, sides)
