"""``/probes/<probe_id>[?twin=...&layer=...&filter=...]``: a probed image, shareable by link."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.probe import ProbeSide, probe_view, sheet_image

dash.register_page(
    __name__,
    path_template=urls.ProbePage.TEMPLATE,
    name="Probe result",
    title="partlens · probe",
    order=5,
)


def probe_side(probe_id: str, layer: str | None, filter_index: int) -> tuple[ProbeSide, str]:
    """A probe with its run and the chosen filter's activation, and the layer shown."""
    api = api_client()
    probe = api.get_json(urls.api_probe(probe_id))
    names = [item["name"] for item in probe["layers"]]
    shown = layer if layer is not None and layer in names else str(names[-1])
    run = api.get_json(urls.api_run(probe["run_id"]))
    try:
        path = urls.api_probe_filter(probe_id, shown, filter_index, "activation")
        activation = api.get_json(path)
    except ApiError:
        activation = None
    return ProbeSide(probe, run, activation), shown


def layout(probe_id: str | None = None, **query: Any) -> html.Div:
    """The probe the URL names (with its twin's), or what is wrong."""
    page = urls.ProbePage.from_dash(
        probe_id,
        query.get("twin"),
        query.get("layer"),
        query.get("filter"),
        query.get("overlay", "heat"),
    )
    if page is None:
        return not_found(f"Bad probe address: probe {probe_id!r}, query {query!r}")
    api = api_client()
    try:
        first, layer = probe_side(page.probe_id, page.layer, page.filter_index)
        sides = [first]
        if page.twin:
            sides.append(probe_side(page.twin, layer, page.filter_index)[0])
        sheets = [
            api.get_json(
                urls.api_probe_layer(side.probe["id"], layer, "sheet.json"),
                **sheet_image(side.probe, layer).params(),
            )
            for side in sides
        ]
    except ApiError as exc:
        return not_found(exc.message) if exc.status_code == 404 else error_box(exc.message)
    return probe_view(page, sides, layer, sheets)
