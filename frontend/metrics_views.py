"""Layout pieces that show evaluation results: metric tables, histograms, heat maps."""

from __future__ import annotations

from typing import Any

from dash import dcc, html


def _fmt(value: float | None, digits: int = 3) -> str:
    return "–" if value is None else f"{value:.{digits}f}"


def metrics_table(metrics: dict[str, Any]) -> html.Table:
    """One row per interpretable layer: instability (with its references) and interpretability."""
    header = html.Tr(
        [
            html.Th(h)
            for h in (
                "layer",
                "location instability ↓",
                "random reference",
                "part-locked oracle",
                "part interpretability ↑",
                "RF radius (px)",
            )
        ]
    )
    rows = []
    for name, layer in metrics["layers"].items():
        li = layer.get("location_instability", {})
        pi = layer.get("part_interpretability", {})
        rows.append(
            html.Tr(
                [
                    html.Td(name),
                    html.Td(_fmt(li.get("mean"))),
                    html.Td(_fmt(li.get("random_reference"))),
                    html.Td(_fmt(li.get("oracle_reference"))),
                    html.Td(_fmt(pi.get("mean"))),
                    html.Td(_fmt(pi.get("rf_radius"), 1)),
                ]
            )
        )
    return html.Table([html.Thead(header), html.Tbody(rows)], className="metrics")


def comparison_table(comparison: dict[str, Any]) -> html.Table:
    """Interpretable vs ordinary twin, per layer and metric, with the ratio."""
    header = html.Tr(
        [html.Th(h) for h in ("layer", "metric", "interpretable", "ordinary", "ratio")]
    )
    interp, ordinary = comparison["interpretable"], comparison["ordinary"]
    rows = [
        html.Tr(
            [
                html.Td("all"),
                html.Td("accuracy ↑"),
                html.Td(_fmt(interp["accuracy"])),
                html.Td(_fmt(ordinary["accuracy"])),
                html.Td(""),
            ]
        )
    ]
    for layer, ratios in comparison["ratios"].items():
        for key, direction in comparison["directions"].items():
            arrow = "↓" if direction.startswith("lower") else "↑"
            rows.append(
                html.Tr(
                    [
                        html.Td(layer),
                        html.Td(f"{key.replace('_', ' ')} {arrow}"),
                        html.Td(_fmt(interp["layers"][layer].get(key))),
                        html.Td(_fmt(ordinary["layers"].get(layer, {}).get(key))),
                        html.Td(_fmt(ratios.get(key), 2)),
                    ]
                )
            )
    return html.Table([html.Thead(header), html.Tbody(rows)], className="metrics comparison")


def part_histogram(metrics: dict[str, Any], layer: str) -> html.Div:
    """How many filters of ``layer`` match each part best (diversity of the learned parts)."""
    histogram = metrics["layers"][layer]["part_interpretability"].get("best_part_histogram", {})
    total = max(sum(histogram.values()), 1)
    bars = [
        html.Div(
            [
                html.Span(part, className="hist-label"),
                html.Div(className="hist-bar", style={"width": f"{200 * n / total:.0f}px"}),
                html.Span(str(n)),
            ],
            className="hist-row",
        )
        for part, n in sorted(histogram.items(), key=lambda kv: -kv[1])
    ]
    return html.Div(
        [html.H4(f"Best-matching part of each filter ({layer})"), *bars], className="histogram"
    )


def radius_table(metrics: dict[str, Any], layer: str) -> html.Table:
    """How part interpretability moves with the receptive-field radius."""
    rows = sorted(
        metrics["layers"][layer]["part_interpretability"].get("radius_sensitivity", []),
        key=lambda row: row["radius"],
    )
    return html.Table(
        [
            html.Thead(html.Tr([html.Th("RF radius (px)"), html.Th("part interpretability")])),
            html.Tbody(
                [html.Tr([html.Td(_fmt(r["radius"], 1)), html.Td(_fmt(r["mean"]))]) for r in rows]
            ),
        ],
        className="metrics",
    )


def heatmap_strip(run_id: str, metrics: dict[str, Any], caption: str = "") -> html.Div:
    """The run's Fig. 6 part heat maps, one per category."""
    figures = [
        html.Figure(
            [
                html.Img(src=f"/media/runs/{run_id}/heatmaps/{category}.png", className="heatmap"),
                html.Figcaption(category),
            ]
        )
        for category in metrics.get("heatmaps", {})
    ]
    return html.Div(
        [html.H4(caption or "Part heat maps (Fig. 6)"), html.Div(figures, className="grid")]
    )


def evaluation_section(run_id: str, metrics: dict[str, Any], has_twin: bool) -> html.Div:
    """Everything the run view shows about an evaluated run."""
    top = metrics.get("top_layer") or list(metrics["layers"])[-1]
    children: list[Any] = [
        html.H3("Evaluation"),
        html.P(
            f"Test accuracy {_fmt(metrics.get('accuracy'))} on the evaluation images.",
            id="test-accuracy",
        ),
        metrics_table(metrics),
    ]
    if has_twin:
        children.append(html.P(dcc.Link("Compare with its twin", href=f"/runs/{run_id}/compare")))
    children += [
        part_histogram(metrics, top),
        html.H4("Sensitivity to the RF radius"),
        radius_table(metrics, top),
        heatmap_strip(run_id, metrics),
    ]
    return html.Div(children, id="evaluation")
