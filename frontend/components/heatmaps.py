"""The paper's Fig. 6 as plotly heat maps: where a run's filters place their parts in the
object-normalised frame (x, y in [0, 1] of the object's box), the average object under them."""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np
import plotly.graph_objects as go

from frontend import theme, urls
from frontend.api_client import ApiError
from frontend.client import Api

HEAT_SIDE = 300  # px: plot area of one heat map
# Inferno whose low end fades out: where no part lands, the average object shows unchanged.
COLORSCALE = [
    [0.0, "rgba(0, 0, 4, 0)"],
    [0.15, "rgba(66, 10, 104, 0.35)"],
    [0.35, "rgba(147, 38, 103, 0.6)"],
    [0.6, "rgba(221, 81, 58, 0.8)"],
    [0.8, "rgba(252, 165, 10, 0.9)"],
    [1.0, "rgba(252, 255, 164, 1)"],
]


def shared_range(heats: list[dict[str, Any] | None]) -> tuple[float, float]:
    """(0, max) over every heat map shown together: one colour means one density everywhere."""
    peaks = [max((max(row) for row in h["heat"]), default=0.0) for h in heats if h and h["heat"]]
    top = max(peaks, default=0.0)
    return 0.0, top if top > 0 else 1.0


class HeatPanel(NamedTuple):
    """One heat map of a figure: the API's ``heatmaps/<category>.json``, the URL of the average
    object image under it (None: none) and its title."""

    heat: dict[str, Any]
    mean_image: str | None
    title: str


PANEL_GAP = 0.1  # share of the figure's width between two panels


def _panel_axes(k: int, n: int) -> tuple[str, list[float]]:
    """The axis suffix ("", "2", ...) and the horizontal domain of panel ``k`` of ``n``."""
    width = (1 - PANEL_GAP * (n - 1)) / n
    start = k * (width + PANEL_GAP)
    return ("" if k == 0 else str(k + 1)), [start, start + width]


def heatmap_figure(panels: list[HeatPanel], zrange: tuple[float, float]) -> go.Figure:
    """Heat maps side by side in one figure on one colour axis (``zrange``, one colorbar), each
    over its average object image: the same colour means the same density in every panel."""
    axis = {"range": [0, 1], "constrain": "domain", "showgrid": False, "zeroline": False}
    faded = all(panel.mean_image for panel in panels)
    layout: dict[str, Any] = {
        "template": theme.TEMPLATE,
        "height": HEAT_SIDE + 90,
        "width": len(panels) * (HEAT_SIDE + 60) + 130,
        "margin": {"l": 56, "r": 16, "t": 40, "b": 44},
        "coloraxis": {
            "cmin": zrange[0],
            "cmax": zrange[1],
            "colorscale": COLORSCALE if faded else "Inferno",
            "colorbar": {"title": {"text": "part density", "side": "right"}, "thickness": 14},
        },
        "images": [],
        "annotations": [],
    }
    data = []
    for k, panel in enumerate(panels):
        suffix, domain = _panel_axes(k, len(panels))
        grid = int(panel.heat["grid"])
        centers = (np.arange(grid) + 0.5) / grid
        # As an array: plotly checks a nested list value by value (~0.1 s for a 64 x 64 grid).
        z = np.asarray(panel.heat["heat"], dtype=np.float32)
        data.append(
            {
                "type": "heatmap",
                "z": z,
                "x": centers,
                "y": centers,
                "coloraxis": "coloraxis",
                "xaxis": f"x{suffix}",
                "yaxis": f"y{suffix}",
                "name": panel.title,
                "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>density %{z:.3g}<extra></extra>",
            }
        )
        layout[f"xaxis{suffix}"] = axis | {
            "domain": domain,
            "anchor": f"y{suffix}",
            "title": {"text": "x / box width"},
        }
        # Image rows run down: y grows downward as in the object's box.
        layout[f"yaxis{suffix}"] = axis | {
            "range": [1, 0],
            "anchor": f"x{suffix}",
            "scaleanchor": f"x{suffix}",
            "title": {"text": "y / box height" if k == 0 else ""},
        }
        if panel.mean_image:
            below = {"xref": f"x{suffix}", "yref": f"y{suffix}", "x": 0, "y": 0}
            below |= {"sizex": 1, "sizey": 1, "sizing": "stretch", "layer": "below"}
            below |= {"xanchor": "left", "yanchor": "top", "source": panel.mean_image}
            layout["images"].append(below)
        title = {"text": panel.title, "xref": "paper", "yref": "paper", "x": domain[0], "y": 1}
        title |= {"xanchor": "left", "yanchor": "bottom", "showarrow": False}
        layout["annotations"].append(title)
    # One construction: each update_* call would validate the whole figure again.
    return go.Figure(data=data, layout=layout)


def heat_caption(heat: dict[str, Any]) -> str:
    """What a heat map counts: part positions and images."""
    return f"{heat.get('points', 0)} part positions on {heat.get('images', 0)} images"


def fetch_heats(api: Api, run_id: str, categories: list[str]) -> dict[str, dict[str, Any] | None]:
    """Each category's heat map as numbers; None where the API has none (its PNG is shown)."""
    heats: dict[str, dict[str, Any] | None] = {}
    for category in categories:
        try:
            heats[category] = api.get_json(urls.api_heatmap(run_id, category))
        except ApiError:
            heats[category] = None
    return heats
