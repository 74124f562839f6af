"""Evaluation results: metric tables, the best-part and radius charts, heat maps."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.charts import graph, part_histogram_figure, radius_figure
from frontend.components.common import (
    NO_VALUE,
    absent_note,
    absent_reason,
    fmt,
    lazy_section,
    part_metrics,
)
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


def _absent_cell(metrics: dict[str, Any]) -> html.Td:
    """A table cell of a figure the run has not: a dash, with the reason on hover."""
    return html.Td(NO_VALUE, title=absent_reason(metrics), className="absent")


def metrics_table(metrics: dict[str, Any]) -> html.Div:
    """One row per interpretable layer: instability (with its references) and interpretability;
    under it, why part interpretability is a dash when the run has none."""
    rows = []
    for name, layer in metrics["layers"].items():
        li = layer.get("location_instability") or {}
        pi = part_metrics(metrics, name)
        cells: list[Any] = [
            html.Td(cell)
            for cell in (
                name,
                fmt(li.get("mean")),
                fmt(li.get("random_reference")),
                fmt(li.get("oracle_reference")),
            )
        ]
        if pi is None:
            cells += [_absent_cell(metrics), _absent_cell(metrics)]
        else:
            cells += [html.Td(fmt(pi.get("mean"))), html.Td(fmt(pi.get("rf_radius"), 1))]
        rows.append(html.Tr(cells))
    table = html.Table([_header(METRIC_COLUMNS), html.Tbody(rows)], className="metrics")
    absent = any(part_metrics(metrics, name) is None for name in metrics["layers"])
    return html.Div([table, absent_note(metrics, "part interpretability")] if absent else table)


def part_histogram(pi: dict[str, Any], layer: str) -> dcc.Graph:
    """How many filters of ``layer`` (its part interpretability ``pi``) match each part best:
    the diversity of the learned parts."""
    return graph(part_histogram_figure(pi.get("best_part_histogram", {}), layer), "part-histogram")


def radius_chart(pi: dict[str, Any]) -> dcc.Graph:
    """How part interpretability ``pi`` moves with the receptive-field radius."""
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
    shown = (
        html.Div(figures, className="grid")
        if figures
        else html.P(f"Fig. 6: {NO_VALUE} (no heat maps in this run's metrics)", className="muted")
    )
    return html.Div([html.H4("Fig. 6: part positions in the object frame"), shown])


CHARTS_ID = "run-view-charts"  # the evaluation's charts, drawn when scrolled to


def evaluation_charts(
    run_id: str, metrics: dict[str, Any], heats: dict[str, dict[str, Any] | None]
) -> list[Any]:
    """The evaluation's charts: best parts, RF-radius sensitivity, Fig. 6 (``heats``: its
    numbers per category)."""
    top = top_layer(metrics)
    pi = part_metrics(metrics, top)
    if pi is None:  # one reason for both charts, not the same one twice
        charts: Any = absent_note(
            metrics, "best-matching parts and RF-radius sensitivity", "part-charts"
        )
    else:
        charts = html.Div([part_histogram(pi, top), radius_chart(pi)], className="charts")
    return [charts, heatmap_strip(run_id, heats)]


def evaluation_section(run_id: str, metrics: dict[str, Any], has_twin: bool) -> html.Div:
    """Everything the run view shows about an evaluated run; its charts
    (:func:`evaluation_charts`) come when scrolled to (:data:`CHARTS_ID`)."""
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
    # Below the fold: the page is complete without them.
    children += lazy_section(CHARTS_ID, "best parts, RF radius and Fig. 6: scroll here", 720)
    return html.Div(children, id="evaluation")
