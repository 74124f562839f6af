"""``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>``: one filter on one image.

The whole view is derived from the URL, so a copied link reproduces it exactly.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.filter import bad_address, filter_view

dash.register_page(
    __name__,
    path_template=urls.FilterPage.TEMPLATE,
    name="Filter",
    title="partlens · filter",
    order=3,
)

TOP_IMAGES = 8


def layer_metrics(view: urls.FilterPage) -> dict[str, Any] | None:
    """The metrics of the view's layer; None when the run is not evaluated (yet)."""
    try:
        return dict(api_client().get_json(urls.api_metrics(view.run_id))["layers"][view.layer])
    except (ApiError, KeyError):
        return None


def layout(
    run_id: str | None = None,
    layer: str | None = None,
    filter_index: str | None = None,
    image: str | None = "0",
    overlay: str | None = "heat",
    **_query: Any,
) -> html.Div:
    """The filter view the URL names, or what is wrong with the URL or the API."""
    view = urls.FilterPage.from_dash(run_id, layer, filter_index, image, overlay)
    if view is None:
        return bad_address(filter_index, image, overlay)
    api = api_client()
    f = view.filter_index
    try:
        features = api.get_json(urls.api_features(view.run_id))
        act = api.get_json(
            urls.api_filter(view.run_id, view.layer, f, "activation"), image=view.image
        )
        top = api.get_json(urls.api_filter(view.run_id, view.layer, f, "top"), k=TOP_IMAGES)
        run = api.get_json(urls.api_run(view.run_id))
    except ApiError as exc:
        return not_found(exc.message) if exc.status_code == 404 else error_box(exc.message)
    n_filters = next(item["filters"] for item in features["layers"] if item["name"] == view.layer)
    counts = (n_filters, features["num_images"])
    return filter_view(view, run, counts, act, top["images"], layer_metrics(view))
