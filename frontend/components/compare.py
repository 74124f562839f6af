"""The compare page: any two runs side by side (by default a run and its twin).

Their metric tables with ratios, their Fig. 6 heat maps on one colour scale over the average
object, their best-part histograms, and the same filter on the same image in both.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from dash import dcc, html

from frontend import urls
from frontend.components.charts import graph
from frontend.components.common import fmt, run_kind
from frontend.components.heatmaps import heat_caption, heatmap_figure, shared_range
from frontend.components.metrics import part_histogram, top_layer

# (metric key in a layer's metrics, label, lower is better)
PAIR_METRICS = (
    ("location_instability", "location instability", True),
    ("part_interpretability", "part interpretability", False),
)
IMAGE_SIDE = 224  # px: images large enough to see parts


class Side(NamedTuple):
    """One run of the comparison: the run, its metrics and its heat maps by category."""

    run: dict[str, Any]
    metrics: dict[str, Any]
    heats: dict[str, dict[str, Any] | None]


def _mean(metrics: dict[str, Any], layer: str, key: str) -> float | None:
    entry = metrics["layers"].get(layer)
    return None if entry is None else entry.get(key, {}).get("mean")


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def pair_table(left: Side, right: Side) -> html.Table:
    """Per layer and metric: both runs' values and their ratio (left / right)."""
    a, b = left.metrics, right.metrics
    rows = [["all", "accuracy ↑", fmt(a.get("accuracy")), fmt(b.get("accuracy")), ""]]
    for layer in a["layers"]:
        for key, label, lower in PAIR_METRICS:
            va, vb = _mean(a, layer, key), _mean(b, layer, key)
            arrow = "↓" if lower else "↑"
            rows.append([layer, f"{label} {arrow}", fmt(va), fmt(vb), fmt(_ratio(va, vb), 2)])
    head = ["layer", "metric", _label(left.run), _label(right.run), "ratio"]
    return html.Table(
        [
            html.Thead(html.Tr([html.Th(cell) for cell in head])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        className="metrics comparison",
        id="compare-table",
    )


def _label(run: dict[str, Any]) -> str:
    return f"{run['id']} ({run_kind(run)})"


def run_pickers(page: urls.ComparePage, other: str, runs: list[dict[str, Any]]) -> html.Div:
    """Two run choosers; choosing one opens the comparison of the new pair."""
    options = [{"label": f"{r['id']} · {r['name']}", "value": r["id"]} for r in runs]
    known = {r["id"] for r in runs}
    for run_id in (page.run_id, other):
        if run_id and run_id not in known:
            options.append({"label": run_id, "value": run_id})
    return html.Div(
        [
            dcc.Location(id="compare-location", refresh="callback-nav"),
            dcc.Store(id="compare-view-state", data={"run_id": page.run_id, "other": other}),
            html.Label(
                ["left ", dcc.Dropdown(options, page.run_id, id="compare-left", clearable=False)]
            ),
            html.Label(
                ["right ", dcc.Dropdown(options, other, id="compare-right", clearable=False)]
            ),
        ],
        className="pickers",
    )


def heatmap_rows(left: Side, right: Side) -> html.Div:
    """Per category: both runs' Fig. 6 heat maps on one colour scale, the colorbar on the right."""
    categories = [
        c for c in left.metrics.get("heatmaps", {}) if c in right.metrics.get("heatmaps", {})
    ]
    zrange = shared_range([side.heats.get(c) for side in (left, right) for c in categories])
    rows = []
    for category in categories:
        cells = []
        for n, side in enumerate((left, right)):
            heat, run_id = side.heats.get(category), side.run["id"]
            if heat is None:  # an API without the numbers: its rendered PNG
                image = html.Img(src=urls.HeatmapImage(run_id, category).url(), className="heatmap")
                cells.append(html.Figure([image, html.Figcaption(f"{category}, {run_id}")]))
                continue
            mean = urls.HeatmapMeanImage(run_id, category).url()
            fig = heatmap_figure(heat, zrange, mean, f"{category}, {run_id}", colorbar=n == 1)
            chart = graph(fig, f"heatmap-{n}-{category}", class_name="chart heat")
            cells.append(html.Figure([chart, html.Figcaption(heat_caption(heat))]))
        rows.append(html.Div(cells, className="pair heat-row"))
    shown: list[Any] = rows or [html.P("No heat maps in common.", className="muted")]
    return html.Div(
        [html.H3("Fig. 6: part positions in the object frame (one colour scale)"), *shown],
        id="compare-heatmaps",
    )


def histograms(left: Side, right: Side) -> html.Div:
    """Both runs' best-part histograms of their top layer."""
    charts = [
        html.Figure(
            [
                part_histogram(side.metrics, top_layer(side.metrics), id=f"part-histogram-{n}"),
                html.Figcaption(_label(side.run)),
            ],
            className="side",
        )
        for n, side in enumerate((left, right))
    ]
    return html.Div([html.H3("Best-matching parts"), html.Div(charts, className="pair")])


def filter_steps(page: urls.ComparePage, n_filters: int, n_images: int) -> html.Div:
    """Links to the neighbouring filter and image of the pair view (wrapping around)."""
    f, i = page.filter_index, page.image

    def step(label: str, id: str, **change: Any) -> dcc.Link:
        return dcc.Link(label, href=replace(page, **change).url(), id=id)

    return html.Div(
        [
            step("< filter", "filter-prev", filter_index=(f - 1) % n_filters),
            step("< image", "image-prev", image=(i - 1) % n_images),
            html.Span(f"filter {f} / {n_filters} · image {i} / {n_images}"),
            step("image >", "image-next", image=(i + 1) % n_images),
            step("filter >", "filter-next", filter_index=(f + 1) % n_filters),
            html.Span("keys: ← → filter, shift + ← → image", className="muted keys"),
        ],
        className="nav",
    )


def same_filter(
    page: urls.ComparePage, sides: tuple[Side, Side], layer: str, counts: tuple[int, int]
) -> html.Div:
    """Filter ``page.filter_index`` of ``layer`` on image ``page.image`` in both runs."""
    figures = []
    for n, side in enumerate(sides):
        view = urls.FilterPage(side.run["id"], layer, page.filter_index, page.image)
        figures.append(
            html.Figure(
                [
                    dcc.Link(
                        html.Img(
                            src=view.overlay_image().url(),
                            className="big",
                            id=f"compare-overlay-{n}",
                        ),
                        href=view.url(),
                    ),
                    html.Figcaption(
                        f"{_label(side.run)}: filter {page.filter_index}, image {page.image}"
                    ),
                ]
            )
        )
    return html.Div(
        [
            html.H3(f"The same filter on the same image ({layer})"),
            filter_steps(page, *counts),
            html.Div(figures, className="pair"),
        ],
        id="compare-filter",
    )


def compare_view(
    page: urls.ComparePage,
    sides: tuple[Side, Side],
    runs: list[dict[str, Any]],
    layer: str,
    counts: tuple[int, int],
) -> html.Div:
    """The whole compare page; ``counts`` is (filters of ``layer``, images) of the left run."""
    left, right = sides
    return html.Div(
        [
            html.H2(
                [
                    "Compare ",
                    dcc.Link(left.run["id"], href=urls.RunPage(left.run["id"]).url()),
                    " with ",
                    dcc.Link(right.run["id"], href=urls.RunPage(right.run["id"]).url()),
                ]
            ),
            run_pickers(page, right.run["id"], runs),
            pair_table(left, right),
            same_filter(page, sides, layer, counts),
            heatmap_rows(left, right),
            histograms(left, right),
        ],
        id="compare-view",
    )


def choose_other(page: urls.ComparePage, runs: list[dict[str, Any]]) -> html.Div:
    """A run without a twin and no run chosen: only the pickers, and why."""
    return html.Div(
        [
            html.H2("Compare two runs"),
            html.P(f"Run {page.run_id} has no twin: choose the run to compare it with."),
            run_pickers(page, "", runs),
        ],
        id="compare-view",
    )
