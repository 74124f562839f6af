"""The compare page: a run and its twin side by side."""

from __future__ import annotations

from typing import Any

from dash import dcc, html

from frontend import urls
from frontend.components.metrics import comparison_table, heatmap_strip, part_histogram, top_layer


def compare_side(kind: str, run_id: str, metrics: dict[str, Any]) -> html.Div:
    """One side (``interpretable`` or ``ordinary``): its link, best parts and heat maps."""
    return html.Div(
        [
            html.H3([f"{kind}: ", dcc.Link(run_id, href=urls.RunPage(run_id).url())]),
            part_histogram(metrics, top_layer(metrics), id=f"part-histogram-{kind}"),
            heatmap_strip(run_id, metrics, caption=f"Part heat maps, {kind}"),
        ],
        className="side",
    )


def compare_view(comparison: dict[str, Any], sides: dict[str, dict[str, Any]]) -> html.Div:
    """The comparison table and both sides; ``sides`` maps each kind to its run's metrics."""
    columns = [
        compare_side(kind, comparison[kind]["run_id"], metrics) for kind, metrics in sides.items()
    ]
    return html.Div(
        [
            html.H2("Interpretable vs ordinary twin"),
            comparison_table(comparison),
            html.Div(columns, className="pair"),
        ],
        id="compare-view",
    )
