"""The filter view's charts: its association P_fk with every part, and where it puts its part.

Pure functions from API data to a chart, or to a short note where the API has no data for one
(an older run, a run not evaluated, a dataset without part masks): never an empty figure.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go
from dash import html

from frontend import theme
from frontend.components.charts import graph
from frontend.components.common import absent_note, part_metrics

POSITIONS_SIDE = 360  # px: the height of the square plot area of the part-position scatter
BAR_HEIGHT = 24  # px per part of the association chart
BEST = theme.COLORWAY[1]
OTHERS = theme.COLORWAY[0]


def _note(text: str, id: str) -> html.P:
    return html.P(text, className="muted note", id=id)


def association_axis_title(metrics: dict[str, Any]) -> str:
    """What P_fk counts (paper Sec. 5.2), with the run's IoU threshold."""
    threshold = metrics.get("evaluation", {}).get("iou_threshold")
    iou = "the IoU threshold" if threshold is None else f"{threshold:g}"
    return f"P_fk: share of the images with part k where IoU(S_f, part k) > {iou}"


def association_figure(
    parts: list[str], values: list[float | None], best: str | None, axis_title: str
) -> go.Figure:
    """P_fk of one filter as horizontal bars, one per part in the given order, on [0, 1]; the
    best part in its own colour. A part no image contains has no bar, and says so."""
    shown = [0.0 if v is None else v for v in values]
    labels = ["no image has it" if v is None else f"{v:.2f}" for v in values]
    colours = [BEST if part == best else OTHERS for part in parts]
    matched = any(v for v in values)
    title = (
        "Association with each part (best part highlighted)"
        if matched
        else "Association with each part (none matched)"  # short: clear of the modebar
    )
    fig = theme.figure(
        title,
        height=max(220, 110 + BAR_HEIGHT * len(parts)),
        margin={"l": 110, "r": 56, "t": 40, "b": 52},
    )
    fig.add_trace(
        go.Bar(
            x=shown,
            y=parts,
            orientation="h",
            text=labels,
            textposition="outside",
            cliponaxis=False,
            marker_color=colours,
            hovertemplate="%{y}: P_fk %{text}<extra></extra>",
        )
    )
    fig.update_xaxes(title_text=axis_title, range=[0, 1], title_font_size=11)
    # The first part on top, as the list reads.
    fig.update_yaxes(autorange="reversed", ticks="")
    return fig


def association_chart(metrics: dict[str, Any] | None, layer: str, f: int) -> Any:
    """Filter ``f``'s P_fk with every part of ``layer`` as a bar chart; a note when the run is
    not evaluated, has no part interpretability, or its metrics predate P_fk."""
    id = "filter-parts"
    if metrics is None:
        return _note("Association with each part: not evaluated yet.", id)
    pi = part_metrics(metrics, layer)
    if pi is None:
        return absent_note(metrics, "association with each part", id)
    rows = pi.get("per_filter_part") or []
    if f >= len(rows) or not rows[f]:
        return _note(
            "Association with each part: this run's metrics predate P_fk "
            "(re-evaluate it to see the chart).",
            id,
        )
    best = pi.get("best_part", [None] * len(rows))[f]
    figure = association_figure(list(pi["parts"]), rows[f], best, association_axis_title(metrics))
    return graph(figure, id)


def positions_figure(positions: dict[str, Any]) -> go.Figure:
    """Where the filter places its part on each image, in the object's box (x right, y down,
    both in [0, 1]): points sized and coloured by score, the box as the unit square, the mean
    landmark positions as labelled markers. A point's ``customdata`` is its image."""
    points = positions.get("points", [])
    landmarks = positions.get("landmarks", [])
    scores = [p["score"] for p in points]
    top = max(scores, default=1.0) or 1.0
    fig = theme.figure(
        "Where this filter places its part, per image",
        height=POSITIONS_SIDE + 90,
        margin={"l": 60, "r": 20, "t": 40, "b": 50},
        showlegend=True,
        legend={"orientation": "h", "y": -0.2, "yanchor": "top"},
    )
    fig.add_shape(type="rect", x0=0, y0=0, x1=1, y1=1, line={"color": theme.MUTED, "width": 1.5})
    fig.add_trace(
        go.Scatter(
            x=[p["x"] for p in points],
            y=[p["y"] for p in points],
            mode="markers",
            name="this filter's part, one per image",
            customdata=[p["image"] for p in points],
            marker={
                "size": [6 + 12 * s / top for s in scores],
                "color": scores,
                "colorscale": "Viridis",
                "cmin": 0,
                "colorbar": {
                    "title": {"text": "score: the filter's max on the image", "side": "right"},
                    "thickness": 12,
                },
                "line": {"width": 0.5, "color": theme.INK},
            },
            hovertemplate="image %{customdata}<br>x %{x:.2f}, y %{y:.2f}<br>"
            "score %{marker.color:.3g}<extra>click: open this image</extra>",
        )
    )
    if landmarks:
        fig.add_trace(
            go.Scatter(
                x=[m["x"] for m in landmarks],
                y=[m["y"] for m in landmarks],
                mode="markers",
                name="mean landmark position",
                text=[m["name"] for m in landmarks],
                marker={"symbol": "x", "size": 10, "color": theme.COLORWAY[1]},
                hovertemplate="%{text}: x %{x:.2f}, y %{y:.2f}<extra></extra>",
            )
        )
        # Labels on a light box, above the points; top to bottom they alternate sides, so
        # landmarks one above the other stay readable.
        ordered = sorted(landmarks, key=lambda m: (m["y"], m["x"]))
        for n, mark in enumerate(ordered):
            side = 1 if n % 2 else -1
            fig.add_annotation(
                x=mark["x"],
                y=mark["y"],
                text=mark["name"],
                showarrow=False,
                xanchor="left" if side > 0 else "right",
                xshift=8 * side,
                bgcolor="rgba(255, 255, 255, 0.8)",
                font={"size": 11, "color": theme.INK},
            )
    axis = {"range": [-0.05, 1.05], "zeroline": False, "constrain": "domain"}
    fig.update_xaxes(title_text="x / box width", **axis)
    # Image rows run down: y grows downward, as in the picture.
    fig.update_yaxes(
        title_text="y / box height", scaleanchor="x", **(axis | {"range": [1.05, -0.05]})
    )
    return fig


def positions_chart(positions: dict[str, Any] | str) -> Any:
    """The part-position scatter, or the note ``positions`` is (the API had none)."""
    # The note has an id of its own: the chart's clicks feed a callback, a note has none.
    if isinstance(positions, str):
        return _note(positions, "filter-positions-note")
    if not positions.get("points"):
        message = "Inferred part positions: no image where this filter fires."
        return _note(message, "filter-positions-note")
    chart = graph(positions_figure(positions), "filter-positions")
    frame = f"p(mu_hat) in the {positions['frame']}" if positions.get("frame") else ""
    return html.Figure([chart, html.Figcaption(f"{frame}; click a point to open its image")])


def filter_charts(
    metrics: dict[str, Any] | None, layer: str, f: int, positions: dict[str, Any] | str
) -> html.Div:
    """The filter view's charts side by side: P_fk per part and the part positions."""
    return html.Div(
        [association_chart(metrics, layer, f), positions_chart(positions)],
        className="charts filter-charts",
    )
