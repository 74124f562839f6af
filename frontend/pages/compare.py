"""``/runs/<run_id>/compare``: a run and its twin side by side (metrics, ratios, heat maps)."""

from __future__ import annotations

from typing import Any

import dash
from dash import dcc, html

from frontend.api_client import ApiError
from frontend.app import api
from frontend.metrics_views import comparison_table, heatmap_strip, part_histogram


def layout(run_id: str | None = None, **_query: Any) -> html.Div:
    try:
        comparison = api().get_json(f"/runs/{run_id}/comparison")
        sides = {
            kind: api().get_json(f"/runs/{comparison[kind]['run_id']}/metrics")
            for kind in ("interpretable", "ordinary")
        }
    except ApiError as exc:
        return html.Div(exc.message, className="error", id="compare-error")
    columns = []
    for kind, metrics in sides.items():
        side_id = comparison[kind]["run_id"]
        top = metrics.get("top_layer") or list(metrics["layers"])[-1]
        columns.append(
            html.Div(
                [
                    html.H3([f"{kind}: ", dcc.Link(side_id, href=f"/runs/{side_id}")]),
                    part_histogram(metrics, top),
                    heatmap_strip(side_id, metrics, caption=f"Part heat maps, {kind}"),
                ],
                className="side",
            )
        )
    return html.Div(
        [
            html.H2("Interpretable vs ordinary twin"),
            comparison_table(comparison),
            html.Div(columns, className="pair"),
        ],
        id="compare-view",
    )


dash.register_page(
    __name__,
    path_template="/runs/<run_id>/compare",
    name="Compare",
    title="partlens · compare",
    layout=layout,
)
