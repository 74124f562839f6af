"""The filter view: one filter on one image, its neighbours, its metrics and its top images."""

from __future__ import annotations

from dataclasses import asdict, replace
from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.common import (
    NO_VALUE,
    absent_reason,
    fmt,
    lazy_section,
    not_found,
    part_metrics,
    run_kind,
)

CHARTS_ID = "filter-charts"  # the section of the per-part chart and the part positions


def bad_address(filter_index: Any, image: Any, overlay: Any) -> html.Div:
    """The not-found page for a filter view URL that names no view."""
    return not_found(
        f"Bad filter view address: filter {filter_index!r}, image {image!r}, "
        f"overlay {overlay!r} (heat or rf)"
    )


def filter_title(view: urls.FilterPage, run: dict[str, Any]) -> list[Any]:
    """The heading, and the line linking to the run (and to the same view of its twin)."""
    twin: list[Any] = []
    if run["twin_id"]:
        twin_view = replace(view, run_id=run["twin_id"])
        twin = [" · twin: ", dcc.Link(run["twin_id"], href=twin_view.url())]
    return [
        html.H2(f"Filter {view.filter_index} of {view.layer}"),
        html.P(
            [
                dcc.Link(f"run {view.run_id}", href=view.run_page().url()),
                f" ({run_kind(run)}, {run['config']['arch']})",
                *twin,
            ]
        ),
    ]


def filter_nav(view: urls.FilterPage | urls.ComparePage, n_filters: int, n_images: int) -> html.Div:
    """Links to the previous and next filter and image of a filter view or of the compare
    view's pair (wrapping around); ``assets/keys.js`` clicks them on the arrow keys (with
    shift: the image ones)."""
    f, i = view.filter_index, 0 if view.image is None else view.image
    # The compare view's next filter opens on that filter's own top image (image None).
    other_filter: dict[str, Any] = {"image": None} if isinstance(view, urls.ComparePage) else {}

    def step(label: str, id: str, **change: Any) -> dcc.Link:
        return dcc.Link(label, href=replace(view, **change).url(), id=id)

    return html.Div(
        [
            step("< filter", "filter-prev", filter_index=(f - 1) % n_filters, **other_filter),
            step("< image", "image-prev", image=(i - 1) % n_images),
            html.Span(f"filter {f} / {n_filters} · image {i} / {n_images}"),
            step("image >", "image-next", image=(i + 1) % n_images),
            step("filter >", "filter-next", filter_index=(f + 1) % n_filters, **other_filter),
            html.Span("keys: ← → filter, shift + ← → image", className="muted keys"),
        ],
        className="nav",
    )


def overlay_figure(view: urls.FilterPage) -> html.Figure:
    """The filter over the image, with links to switch the overlay."""
    shown = "activation" if view.overlay == "heat" else "receptive fields"
    return html.Figure(
        [
            html.Img(id="filter-overlay", className="big", src=view.overlay_image().url()),
            html.Figcaption(
                [
                    shown,
                    " · show: ",
                    dcc.Link("activation", href=replace(view, overlay="heat").url()),
                    " / ",
                    dcc.Link("receptive fields", href=replace(view, overlay="rf").url()),
                ]
            ),
        ]
    )


def image_figure(view: urls.FilterPage) -> html.Figure:
    """The image itself, without overlay."""
    return html.Figure(
        [
            html.Img(id="filter-image", className="big", src=view.dataset_image().url()),
            html.Figcaption(f"image {view.image}"),
        ]
    )


def panel_figure(view: urls.FilterPage) -> html.Figure:
    """The paper's Fig. 4 for the view's filter and image (the API draws its colour bars)."""
    panel = urls.PanelImage(view.run_id, view.layer, view.filter_index, view.image)
    return html.Figure(
        [
            html.Img(id="filter-panel", className="panel", src=panel.url(), alt="Fig. 4 panel"),
            html.Figcaption(
                "Fig. 4: the image x, the mask T of the peak unit, the masked map and the "
                "receptive-field region S_f of its strongest units (scored against the part "
                "masks where the dataset has them)"
            ),
        ]
    )


def filter_stats(activation: dict[str, Any]) -> html.P:
    """Where the filter peaks on the image, and its maximum over all images."""
    row, col = activation["argmax"]
    return html.P(
        f"peak {activation['max']:.3f} at unit (row {row}, col {col}); "
        f"filter max over all images {activation['filter_max']:.3f}",
        id="filter-stats",
    )


def filter_metrics(metrics: dict[str, Any] | None, layer: str, f: int) -> html.P:
    """This filter's share of the paper's metrics in ``layer``; None ``metrics``: not
    evaluated. A run without part interpretability shows a dash and why."""
    if metrics is None or layer not in metrics["layers"]:
        return html.P("not evaluated yet", id="filter-metrics")
    layer_metrics = metrics["layers"][layer]
    pi = part_metrics(metrics, layer)
    instability = layer_metrics["location_instability"]["per_filter"][f]
    part = (
        f"part interpretability P_f {NO_VALUE} ({absent_reason(metrics)})"
        if pi is None
        else f"part interpretability P_f {fmt(pi['per_filter'][f])} "
        f"(best part: {pi['best_part'][f] or 'none'})"
    )
    parts = [
        part,
        "location instability " + ("excluded" if instability is None else f"{instability:.3f}"),
    ]
    if "target_category" in layer_metrics:
        parts.append(f"target category {layer_metrics['target_category'][f]}")
    return html.P(" · ".join(parts), id="filter-metrics")


def top_images(view: urls.FilterPage, images: list[int]) -> html.Div:
    """The filter over each of its top images, each linking to that view."""
    return html.Div(
        [
            dcc.Link(
                html.Img(src=view.overlay_image(j).url()),
                href=replace(view, image=j).url(),
                className="cell",
            )
            for j in images
        ],
        className="grid",
    )


def filter_view(
    view: urls.FilterPage,
    run: dict[str, Any],
    counts: tuple[int, int],
    activation: dict[str, Any],
    top: list[int],
    metrics: dict[str, Any] | None,
) -> html.Div:
    """The whole filter view; ``counts`` is (filters in the layer, images), ``top`` the images,
    ``metrics`` the run's (None: not evaluated). Its charts come when scrolled to
    (:data:`CHARTS_ID`)."""
    n_filters, n_images = counts
    f = view.filter_index
    return html.Div(
        [
            *filter_title(view, run),
            filter_nav(view, n_filters, n_images),
            html.Div([overlay_figure(view), image_figure(view)], className="pair"),
            filter_stats(activation),
            filter_metrics(metrics, view.layer, f),
            # The panel's RF region needs the evaluation (the API answers 409 before).
            *([] if metrics is None else [panel_figure(view)]),
            # Below the fold: drawn when scrolled to (the view is complete without them).
            *lazy_section(CHARTS_ID, "part association and positions: scroll here", 450),
            html.H3("Top images of this filter"),
            top_images(view, top),
            dcc.Store(id="filter-view-state", data=asdict(view)),
            # callback-nav: a click on a part position opens its image without a reload.
            dcc.Location(id="filter-location", refresh="callback-nav"),
        ],
        id="filter-view",
    )
