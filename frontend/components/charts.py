"""The app's plotly charts: training curves, the best-part histogram, the RF-radius sensitivity.

Pure functions from API data to figures, all in the template of :mod:`frontend.theme`.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import dcc
from plotly.subplots import make_subplots

from frontend import theme

# (history field, panel title) of each training curve, in panel order.
CURVES = (
    ("task_loss", "task loss"),
    ("filter_loss", "filter loss"),
    ("accuracy", "training accuracy"),
    ("filter_lambda", "filter-loss weight λ"),
    ("images_per_s", "images / s"),
    ("lr", "learning rate"),
)
CURVE_COLUMNS = 3
CURVES_HEIGHT = 440  # px: the training curves' figure


def graph(fig: go.Figure, id: str, class_name: str = "chart") -> dcc.Graph:
    """``fig`` as a Dash graph with the app's modebar settings, as high as the figure from the
    start (nothing below it moves when plotly has drawn it)."""
    config: Any = theme.GRAPH_CONFIG  # a plain dict: Dash's typed Config is only a TypedDict
    height = fig.layout.height
    style = {} if height is None else {"height": f"{height}px"}
    return dcc.Graph(id=id, figure=fig, config=config, className=class_name, style=style)


def _series(points: list[dict[str, Any]], key: str) -> tuple[list[int], list[float]]:
    """(steps, values) of the points where ``key`` has a value."""
    kept = [p for p in points if p.get(key) is not None]
    return [p["step"] for p in kept], [p[key] for p in kept]


def flat_range(values: list[float]) -> list[float] | None:
    """A y range for a curve that never changes (a constant learning rate): from 0 to twice
    its value, so the value reads off the axis; None when the curve varies (plotly's own
    range) or is empty. Plotly centres a flat curve on a unit span, where 0.01 looks like 0."""
    if not values or max(values) != min(values):
        return None
    value = values[0]
    if value == 0:
        return [-1.0, 1.0]
    return sorted([0.0, 2 * value])


def training_figure(points: list[dict[str, Any]]) -> go.Figure:
    """The training curves vs step: one panel per :data:`CURVES` entry.

    Throttled step points draw a line per attempt (a resumed run starts a new one), epoch means
    are markers; a run without history yet gets a figure that says so.
    """
    if not points:
        return theme.empty_figure("no training history yet", height=CURVES_HEIGHT)
    rows = -(-len(CURVES) // CURVE_COLUMNS)
    fig = make_subplots(
        rows=rows,
        cols=CURVE_COLUMNS,
        subplot_titles=[title for _, title in CURVES],
        horizontal_spacing=0.08,
        vertical_spacing=0.2,
    )
    attempts = sorted({p.get("attempt", 1) for p in points})
    for n, (key, _) in enumerate(CURVES):
        row, col = divmod(n, CURVE_COLUMNS)
        for k, attempt in enumerate(attempts):
            steps = [p for p in points if p["kind"] == "step" and p.get("attempt", 1) == attempt]
            x, y = _series(steps, key)
            name = "steps" if len(attempts) == 1 else f"steps, attempt {attempt}"
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=y,
                    mode="lines+markers" if len(x) < 30 else "lines",
                    name=name,
                    legendgroup=name,
                    showlegend=n == 0,
                    line={"color": theme.COLORWAY[k % len(theme.COLORWAY)], "width": 1.6},
                    marker={"size": 4},
                ),
                row=row + 1,
                col=col + 1,
            )
        x, y = _series([p for p in points if p["kind"] == "epoch"], key)
        fig.add_trace(
            go.Scatter(
                x=x,
                y=y,
                mode="markers",
                name="epoch mean",
                legendgroup="epoch",
                showlegend=n == 0,
                marker={"color": theme.INK, "size": 8, "symbol": "diamond"},
            ),
            row=row + 1,
            col=col + 1,
        )
        flat = flat_range([value for p in points if (value := p.get(key)) is not None])
        if flat is not None:
            fig.update_yaxes(range=flat, row=row + 1, col=col + 1)
    # The legend at the figure's top edge, above the panel titles (not over the first one).
    legend = {"yref": "container", "y": 1.0, "yanchor": "top", "x": 0.0, "xanchor": "left"}
    fig.update_layout(
        template=theme.TEMPLATE, height=CURVES_HEIGHT, margin={"t": 72}, legend=legend
    )
    fig.update_xaxes(title_text="step", row=rows)
    fig.update_annotations(font_size=12)
    return fig


def part_histogram_figure(histogram: dict[str, int], layer: str) -> go.Figure:
    """How many filters of ``layer`` match each part best, most frequent first."""
    if not histogram:
        return theme.empty_figure("no best parts")
    parts = sorted(histogram.items(), key=lambda kv: (-kv[1], kv[0]))
    fig = theme.figure(f"Best-matching part of each filter ({layer})", height=260)
    fig.add_trace(
        go.Bar(
            x=[part for part, _ in parts],
            y=[n for _, n in parts],
            text=[n for _, n in parts],
            textposition="outside",
            cliponaxis=False,
            marker_color=theme.COLORWAY[0],
        )
    )
    fig.update_yaxes(title_text="filters", rangemode="tozero")
    return fig


def radius_figure(sensitivity: list[dict[str, Any]], rf_radius: float | None) -> go.Figure:
    """mean_f P_f against the RF radius; the radius the metric uses marked with a line."""
    rows = sorted((r for r in sensitivity if r.get("mean") is not None), key=lambda r: r["radius"])
    if not rows:
        return theme.empty_figure("no radius sensitivity")
    fig = theme.figure("Part interpretability vs RF radius", height=260)
    fig.add_trace(
        go.Scatter(
            x=[r["radius"] for r in rows],
            y=[r["mean"] for r in rows],
            mode="lines+markers",
            text=[r.get("source", "") for r in rows],
            hovertemplate="radius %{x:.1f} px<br>P %{y:.3f}<br>%{text}<extra></extra>",
            marker_color=theme.COLORWAY[1],
        )
    )
    if rf_radius is not None:
        fig.add_vline(
            x=rf_radius,
            line={"dash": "dot", "color": theme.MUTED},
            annotation_text=f"used: {rf_radius:.1f} px",
            annotation_position="bottom right",
        )
    fig.update_xaxes(title_text="RF radius (px)")
    fig.update_yaxes(title_text="mean P_f", rangemode="tozero")
    return fig


def paired_histogram_figure(series: dict[str, dict[str, int]], layer: str) -> go.Figure:
    """Best-part histograms of several runs as grouped bars, parts by their total count."""
    totals: dict[str, int] = {}
    for histogram in series.values():
        for part, n in histogram.items():
            totals[part] = totals.get(part, 0) + n
    if not totals:
        return theme.empty_figure("no best parts")
    parts = sorted(totals, key=lambda part: (-totals[part], part))
    data = [
        {
            "type": "bar",
            "name": name,
            "x": parts,
            "y": [histogram.get(part, 0) for part in parts],
            "text": [histogram.get(part, 0) for part in parts],
            "textposition": "outside",
            "cliponaxis": False,
            "marker": {"color": theme.COLORWAY[k % len(theme.COLORWAY)]},
        }
        for k, (name, histogram) in enumerate(series.items())
    ]
    layout = {
        "template": theme.TEMPLATE,
        "height": 300,
        "barmode": "group",
        "title": {"text": f"Best-matching part of each filter ({layer})"},
        "yaxis": {"title": {"text": "filters"}, "rangemode": "tozero"},
        "margin": {"t": 70},
    }
    return go.Figure(data=data, layout=layout)
