"""The paper's Fig. 6 as plotly heat maps: where a run's filters place their parts in the
object-normalised frame (x, y in [0, 1] of the object's box), the average object under them."""

from __future__ import annotations

from typing import Any

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


def heatmap_figure(
    heat: dict[str, Any],
    zrange: tuple[float, float],
    mean_image: str | None,
    title: str,
    colorbar: bool = True,
) -> go.Figure:
    """One category's heat (``heat``: the API's ``heatmaps/<category>.json``) on a shared
    ``zrange`` over the average object image at URL ``mean_image``; ``colorbar`` draws the
    scale (one per row of figures sharing it is enough)."""
    grid = int(heat["grid"])
    centers = (np.arange(grid) + 0.5) / grid
    # As an array: plotly checks a nested list value by value (~0.1 s for a 64 x 64 grid).
    z = np.asarray(heat["heat"], dtype=np.float32)
    trace = {
        "type": "heatmap",
        "z": z,
        "x": centers,
        "y": centers,
        "zmin": zrange[0],
        "zmax": zrange[1],
        "colorscale": COLORSCALE if mean_image else "Inferno",
        "showscale": colorbar,
        "colorbar": {"title": {"text": "part density", "side": "right"}, "thickness": 14},
        "hovertemplate": "x %{x:.2f}, y %{y:.2f}<br>density %{z:.3g}<extra></extra>",
    }
    below = {"xref": "x", "yref": "y", "x": 0, "y": 0, "sizex": 1, "sizey": 1}
    below |= {"sizing": "stretch", "layer": "below", "xanchor": "left", "yanchor": "top"}
    axis = {"range": [0, 1], "constrain": "domain", "showgrid": False, "zeroline": False}
    layout = {
        "template": theme.TEMPLATE,
        "title": {"text": title},
        "height": HEAT_SIDE + 90,
        "width": HEAT_SIDE + (170 if colorbar else 90),
        "margin": {"l": 56, "r": 16, "t": 40, "b": 44},
        "xaxis": axis | {"title": {"text": "x / box width"}},
        # Image rows run down: y grows downward as in the object's box.
        "yaxis": axis | {"title": {"text": "y / box height"}, "range": [1, 0], "scaleanchor": "x"},
        "images": [below | {"source": mean_image}] if mean_image else [],
    }
    # One construction: each update_* call would validate the whole figure again.
    return go.Figure(data=[trace], layout=layout)


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
