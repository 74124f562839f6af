"""The one look of the app's charts: a plotly template and the figure helpers built on it.

Every chart of every page is made with :func:`figure` (or gets :data:`TEMPLATE`), so fonts,
colours, margins and grids match each other and the stylesheet ``assets/style.css``.
"""

from __future__ import annotations

from typing import Any

import plotly.graph_objects as go

INK = "#1d2330"
MUTED = "#6b7385"
GRID = "#e3e6ec"
PAPER = "#ffffff"
# Colour-blind safe (Okabe-Ito), in the order traces take them.
COLORWAY = ["#0072b2", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#f0e442"]
FONT = "system-ui, -apple-system, 'Segoe UI', sans-serif"

TEMPLATE = go.layout.Template(
    layout=go.Layout(
        font={"family": FONT, "size": 12, "color": INK},
        colorway=COLORWAY,
        paper_bgcolor=PAPER,
        plot_bgcolor=PAPER,
        margin={"l": 56, "r": 16, "t": 36, "b": 44},
        title={"font": {"size": 14}, "x": 0.0, "xanchor": "left"},
        xaxis={"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": MUTED, "ticks": "outside"},
        yaxis={"gridcolor": GRID, "zerolinecolor": GRID, "linecolor": MUTED, "ticks": "outside"},
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0.0},
        hoverlabel={"font": {"family": FONT}},
    )
)

# The modebar's tools a reader of these small charts needs; the rest only clutter it.
GRAPH_CONFIG: dict[str, Any] = {
    "displaylogo": False,
    "modeBarButtonsToRemove": ["select2d", "lasso2d", "autoScale2d", "toggleSpikelines"],
}


def figure(title: str = "", height: int = 280, **layout: Any) -> go.Figure:
    """An empty figure in the app's template, ``height`` pixels high, with ``title``."""
    fig = go.Figure(layout={"template": TEMPLATE, "height": height, **layout})
    if title:
        fig.update_layout(title_text=title)
    return fig


def empty_figure(message: str, height: int = 280) -> go.Figure:
    """A figure without data that says why there is none (no axes drawn)."""
    fig = figure(height=height)
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False)
    fig.add_annotation(
        text=message, showarrow=False, xref="paper", yref="paper", font={"color": MUTED}
    )
    return fig
