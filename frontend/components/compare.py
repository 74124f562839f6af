"""The compare page: any two runs side by side (by default a run and its twin).

Their metric tables with ratios, their Fig. 6 heat maps on one colour scale over the average
object, their best-part histograms, and the same filter on the same image in both.
"""

from __future__ import annotations

from typing import Any, NamedTuple

from dash import dcc, html

from frontend import urls
from frontend.components.charts import graph, paired_histogram_figure
from frontend.components.common import (
    NO_VALUE,
    absent_reason,
    fmt,
    lazy_section,
    part_metrics,
    run_kind,
)
from frontend.components.filter import filter_nav
from frontend.components.heatmaps import HeatPanel, heat_caption, heatmap_figure, shared_range
from frontend.components.metrics import top_layer

# (metric key in a layer's metrics, label, lower is better)
PAIR_METRICS = (
    ("location_instability", "location instability", True),
    ("part_interpretability", "part interpretability", False),
)
IMAGE_SIDE = 224  # px: images large enough to see parts
CHARTS_ID = "compare-charts"  # the best-part histograms, drawn when scrolled to


class Side(NamedTuple):
    """One run of the comparison: the run, its metrics and its heat maps by category."""

    run: dict[str, Any]
    metrics: dict[str, Any]
    heats: dict[str, dict[str, Any] | None]


def _mean(metrics: dict[str, Any], layer: str, key: str) -> float | None:
    entry = metrics["layers"].get(layer) or {}
    return (entry.get(key) or {}).get("mean")


def absent_notes(sides: tuple[Side, ...], what: str) -> list[html.P]:
    """For the runs without part interpretability: ``what`` is a dash, and why (one line per
    reason, naming its runs)."""
    runs: dict[str, list[str]] = {}
    for side in sides:
        layers = side.metrics["layers"]
        if any(part_metrics(side.metrics, layer) is None for layer in layers):
            runs.setdefault(absent_reason(side.metrics), []).append(side.run["id"])
    return [
        html.P(f"{what} of {' and '.join(ids)}: {NO_VALUE} ({reason})", className="muted absent")
        for reason, ids in runs.items()
    ]


def _ratio(a: float | None, b: float | None) -> float | None:
    return None if a is None or b is None or b == 0 else a / b


def pair_table(left: Side, right: Side) -> html.Div:
    """Per layer and metric: both runs' values and their ratio (left / right); under it, why
    part interpretability is a dash for a run that has none."""
    a, b = left.metrics, right.metrics
    rows = [["all", "accuracy ↑", fmt(a.get("accuracy")), fmt(b.get("accuracy")), ""]]
    for layer in a["layers"]:
        for key, label, lower in PAIR_METRICS:
            va, vb = _mean(a, layer, key), _mean(b, layer, key)
            arrow = "↓" if lower else "↑"
            rows.append([layer, f"{label} {arrow}", fmt(va), fmt(vb), fmt(_ratio(va, vb), 2)])
    head = ["layer", "metric", _label(left.run), _label(right.run), "ratio"]
    table = html.Table(
        [
            html.Thead(html.Tr([html.Th(cell) for cell in head])),
            html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows]),
        ],
        className="metrics comparison",
        id="compare-table",
    )
    return html.Div([table, *absent_notes((left, right), "part interpretability")])


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


def _rendered(run_id: str, category: str) -> html.Figure:
    """A heat map as the API's rendered PNG."""
    image = html.Img(src=urls.HeatmapImage(run_id, category).url(), className="heatmap")
    return html.Figure([image, html.Figcaption(f"{category}, {run_id}")])


def heatmap_rows(left: Side, right: Side) -> html.Div:
    """Per category: both runs' Fig. 6 heat maps on one colour scale, the colorbar on the right."""
    categories = [
        c for c in left.metrics.get("heatmaps", {}) if c in right.metrics.get("heatmaps", {})
    ]
    zrange = shared_range([side.heats.get(c) for side in (left, right) for c in categories])
    rows: list[Any] = []
    for category in categories:
        heats = [(side.run["id"], side.heats.get(category)) for side in (left, right)]
        if any(heat is None for _, heat in heats):  # an API without the numbers: its PNGs
            rows.append(
                html.Div([_rendered(run_id, category) for run_id, _ in heats], className="pair")
            )
            continue
        panels = [
            HeatPanel(heat, urls.HeatmapMeanImage(run_id, category).url(), f"{category}, {run_id}")
            for run_id, heat in heats
            if heat is not None
        ]
        chart = graph(heatmap_figure(panels, zrange), f"heatmap-{category}", "chart heat")
        caption = " · ".join(f"{run_id}: {heat_caption(heat)}" for run_id, heat in heats if heat)
        rows.append(html.Figure([chart, html.Figcaption(caption)]))
    shown = rows or [html.P("No heat maps in common.", className="muted")]
    return html.Div(
        [html.H3("Fig. 6: part positions in the object frame (one colour scale)"), *shown],
        id="compare-heatmaps",
    )


def histograms(left: Side, right: Side) -> html.Div:
    """Both runs' best-part histograms of their top layer, as grouped bars of one chart."""
    series = {}
    for side in (left, right):
        pi = part_metrics(side.metrics, top_layer(side.metrics))
        if pi is not None:
            series[_label(side.run)] = pi.get("best_part_histogram", {})
    absent = absent_notes((left, right), "best-matching parts")
    shown: list[Any] = absent
    if series:
        figure = paired_histogram_figure(series, top_layer(left.metrics))
        shown = [graph(figure, "part-histograms"), *absent]
    return html.Div([html.H3("Best-matching parts"), *shown], id="compare-histograms")


def same_filter(
    page: urls.ComparePage, sides: tuple[Side, Side], layer: str, counts: tuple[int, int]
) -> html.Div:
    """Filter ``page.filter_index`` of ``layer`` on image ``page.image`` in both runs."""
    figures = []
    image = 0 if page.image is None else page.image
    for n, side in enumerate(sides):
        view = urls.FilterPage(side.run["id"], layer, page.filter_index, image)
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
                        f"{_label(side.run)}: filter {page.filter_index}, image {image}"
                    ),
                ]
            )
        )
    return html.Div(
        [
            html.H3(f"The same filter on the same image ({layer})"),
            filter_nav(page, *counts),
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
    """The whole compare page; ``counts`` is (filters of ``layer``, images) of the left run.
    Its best-part histograms (:func:`histograms`) come when scrolled to (:data:`CHARTS_ID`)."""
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
            # Below the fold: drawn when scrolled to (the view is complete without it).
            *lazy_section(CHARTS_ID, "best-matching parts: scroll here", 380),
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
