"""``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>``: one filter on one image.

The whole view is derived from the URL, so a copied link reproduces it exactly.
"""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from frontend.api_client import ApiError
from frontend.app import api


def _int(value: Any, default: int = 0) -> int | None:
    try:
        return int(value)
    except (TypeError, ValueError):
        return None if value is not None else default


def _filter_metrics(run_id: str, layer: str, f: int) -> html.P:
    """This filter's share of the paper's metrics, when the run is evaluated."""
    try:
        layer_metrics = api().get_json(f"/runs/{run_id}/metrics")["layers"][layer]
    except (ApiError, KeyError):
        return html.P("not evaluated yet", id="filter-metrics")
    pi = layer_metrics["part_interpretability"]
    instability = layer_metrics["location_instability"]["per_filter"][f]
    parts = [
        f"part interpretability P_f {pi['per_filter'][f]:.3f} (best part: {pi['best_part'][f]})",
        "location instability " + ("excluded" if instability is None else f"{instability:.3f}"),
    ]
    if "target_category" in layer_metrics:
        parts.append(f"target category {layer_metrics['target_category'][f]}")
    return html.P(" · ".join(parts), id="filter-metrics")


def layout(
    run_id: str | None = None,
    layer: str | None = None,
    filter_index: str | None = None,
    image: str | None = "0",
    overlay: str | None = "heat",
    **_query: Any,
) -> html.Div:
    f, i = _int(filter_index), _int(image)
    if f is None or i is None or f < 0 or i < 0 or overlay not in ("heat", "rf"):
        return html.Div(
            f"Bad filter view address: filter {filter_index!r}, image {image!r}, "
            f"overlay {overlay!r} (heat or rf)",
            className="error",
        )
    base = f"/runs/{run_id}/layers/{layer}/filters"
    try:
        features = api().get_json(f"/runs/{run_id}/features")
        act = api().get_json(f"{base}/{f}/activation", image=i)
        top = api().get_json(f"{base}/{f}/top", k=8)
        run = api().get_json(f"/runs/{run_id}")
    except ApiError as exc:
        return html.Div(exc.message, className="error")
    n_images = features["num_images"]
    n_filters = next(item["filters"] for item in features["layers"] if item["name"] == layer)

    def view(filter_: int, image_: int, mode: str | None = None) -> str:
        mode = mode or overlay
        suffix = "" if mode == "heat" else f"&overlay={mode}"
        return f"{base}/{filter_}?image={image_}{suffix}"

    nav = html.Div(
        [
            dcc.Link("< filter", href=view((f - 1) % n_filters, i)),
            dcc.Link("< image", href=view(f, (i - 1) % n_images)),
            html.Span(f"filter {f} / {n_filters} · image {i} / {n_images}"),
            dcc.Link("image >", href=view(f, (i + 1) % n_images)),
            dcc.Link("filter >", href=view((f + 1) % n_filters, i)),
        ],
        className="nav",
    )
    row, col = act["argmax"]
    twin = (
        [
            " · twin: ",
            dcc.Link(
                run["twin_id"],
                href=f"/runs/{run['twin_id']}/layers/{layer}{view(f, i).removeprefix(base)}",
            ),
        ]
        if run["twin_id"]
        else []
    )
    kind = "interpretable" if run["config"]["interpretable"] else "ordinary"
    return html.Div(
        [
            html.H2(f"Filter {f} of {layer}"),
            html.P(
                [
                    dcc.Link(f"run {run_id}", href=f"/runs/{run_id}?layer={layer}"),
                    f" ({kind}, {run['config']['arch']})",
                    *twin,
                ]
            ),
            nav,
            html.Div(
                [
                    html.Figure(
                        [
                            html.Img(
                                id="filter-overlay",
                                className="big",
                                src=f"/media{base}/{f}/overlay.png?image={i}&mode={overlay}",
                            ),
                            html.Figcaption(
                                [
                                    "activation" if overlay == "heat" else "receptive fields",
                                    " · show: ",
                                    dcc.Link("activation", href=view(f, i, "heat")),
                                    " / ",
                                    dcc.Link("receptive fields", href=view(f, i, "rf")),
                                ]
                            ),
                        ]
                    ),
                    html.Figure(
                        [
                            html.Img(
                                id="filter-image",
                                className="big",
                                src=f"/media/runs/{run_id}/images/{i}.png",
                            ),
                            html.Figcaption(f"image {i}"),
                        ]
                    ),
                ],
                className="pair",
            ),
            html.P(
                f"peak {act['max']:.3f} at unit (row {row}, col {col}); "
                f"filter max over all images {act['filter_max']:.3f}",
                id="filter-stats",
            ),
            _filter_metrics(run_id, layer, f),
            html.H3("Top images of this filter"),
            html.Div(
                [
                    dcc.Link(
                        html.Img(src=f"/media{base}/{f}/overlay.png?image={j}&mode={overlay}"),
                        href=view(f, j),
                        className="cell",
                    )
                    for j in top["images"]
                ],
                className="grid",
            ),
        ],
        id="filter-view",
    )


dash.register_page(
    __name__,
    path_template="/runs/<run_id>/layers/<layer>/filters/<filter_index>",
    name="Filter",
    title="partlens · filter",
    layout=layout,
)
