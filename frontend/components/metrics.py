"""Evaluation results: metric tables, the best-part and radius charts, heat maps."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.charts import graph, part_histogram_figure, radius_figure
from frontend.components.common import fmt
from frontend.components.heatmaps import HeatPanel, heat_caption, heatmap_figure, shared_range

METRIC_COLUMNS = (
    "layer",
    "location instability ↓",
    "random reference",
    "part-locked oracle",
    "part interpretability ↑",
    "RF radius (px)",
)


def top_layer(metrics: dict[str, Any]) -> str:
    """The layer the paper evaluates: the top interpretable one."""
    return str(metrics.get("top_layer") or list(metrics["layers"])[-1])


def _header(columns: tuple[str, ...]) -> html.Thead:
    return html.Thead(html.Tr([html.Th(column) for column in columns]))


def metrics_table(metrics: dict[str, Any]) -> html.Table:
    """One row per interpretable layer: instability (with its references) and interpretability."""
    rows = []
    for name, layer in metrics["layers"].items():
        li = layer.get("location_instability", {})
        pi = layer.get("part_interpretability", {})
        cells = [
            name,
            fmt(li.get("mean")),
            fmt(li.get("random_reference")),
            fmt(li.get("oracle_reference")),
            fmt(pi.get("mean")),
            fmt(pi.get("rf_radius"), 1),
        ]
        rows.append(html.Tr([html.Td(cell) for cell in cells]))
    return html.Table([_header(METRIC_COLUMNS), html.Tbody(rows)], className="metrics")


def part_histogram(metrics: dict[str, Any], layer: str, id: str = "part-histogram") -> dcc.Graph:
    """How many filters of ``layer`` match each part best (diversity of the learned parts)."""
    histogram = metrics["layers"][layer]["part_interpretability"].get("best_part_histogram", {})
    return graph(part_histogram_figure(histogram, layer), id)


def radius_chart(metrics: dict[str, Any], layer: str) -> dcc.Graph:
    """How part interpretability moves with the receptive-field radius."""
    pi = metrics["layers"][layer]["part_interpretability"]
    figure = radius_figure(pi.get("radius_sensitivity", []), pi.get("rf_radius"))
    return graph(figure, "radius-sensitivity")


def heatmap_strip(run_id: str, heats: dict[str, dict[str, Any] | None]) -> html.Div:
    """The run's Fig. 6 part heat maps, one per category, over the average object (the PNG
    where the API has no numbers)."""
    figures = []
    for category, heat in heats.items():
        if heat is None:
            image = html.Img(src=urls.HeatmapImage(run_id, category).url(), className="heatmap")
            figures.append(html.Figure([image, html.Figcaption(category)]))
            continue
        mean = urls.HeatmapMeanImage(run_id, category).url()
        fig = heatmap_figure([HeatPanel(heat, mean, category)], shared_range([heat]))
        chart = graph(fig, f"heatmap-{category}", class_name="chart heat")
        figures.append(html.Figure([chart, html.Figcaption(heat_caption(heat))]))
    return html.Div(
        [html.H4("Fig. 6: part positions in the object frame"), html.Div(figures, className="grid")]
    )


def evaluation_section(
    run_id: str,
    metrics: dict[str, Any],
    has_twin: bool,
    heats: dict[str, dict[str, Any] | None],
) -> html.Div:
    """Everything the run view shows about an evaluated run (``heats``: its Fig. 6 numbers)."""
    top = top_layer(metrics)
    children: list[Any] = [
        html.H3("Evaluation"),
        html.P(
            f"Test accuracy {fmt(metrics.get('accuracy'))} on the evaluation images.",
            id="test-accuracy",
        ),
        metrics_table(metrics),
    ]
    probe = dcc.Link("Probe your own image", href=urls.ProbeUploadPage(run_id).url())
    if has_twin:
        compare = urls.ComparePage(run_id).url()
        children.append(html.P([dcc.Link("Compare with its twin", href=compare), " · ", probe]))
    else:
        children.append(html.P(probe))
    children += [
        html.Div([part_histogram(metrics, top), radius_chart(metrics, top)], className="charts"),
        heatmap_strip(run_id, heats),
    ]
    return html.Div(children, id="evaluation")
