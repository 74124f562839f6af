"""``/datasets/<name>[?split=&overlay=&offset=]``: a dataset's samples with their annotations."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.dataset import PAGE_SIZE, dataset_view, shown_overlay

dash.register_page(
    __name__,
    path_template=urls.DatasetPage.TEMPLATE,
    name="Dataset",
    title="partlens · dataset",
    order=6,
)


def layout(name: str | None = None, **query: Any) -> html.Div:
    """The page of samples the URL names, or what is wrong."""
    page = urls.DatasetPage.from_dash(
        name, query.get("split", "train"), query.get("overlay", "masks"), query.get("offset")
    )
    if page is None:
        return not_found(
            f"Bad dataset address: {name!r}, query {query!r} "
            "(split train or test, overlay none, masks or landmarks)"
        )
    api = api_client()
    try:
        dataset = api.get_json(urls.api_dataset(page.name))
        page = shown_overlay(page, dataset)
        samples = api.get_json(
            urls.api_samples(page.name), split=page.split, offset=page.offset, limit=PAGE_SIZE
        )
    except ApiError as exc:
        return not_found(exc.message) if exc.status_code == 404 else error_box(exc.message)
    try:
        names = [item["name"] for item in api.get_json(urls.API_DATASETS)]
    except ApiError:
        names = [page.name]
    return dataset_view(page, dataset, samples, names)
