"""Small reusable pieces of layout."""

from __future__ import annotations

from typing import Any

from dash import html


def progress_bar(run: dict[str, Any]) -> html.Div:
    """A bar with the run's training progress and its current stage."""
    share = 1.0 if run["status"] == "succeeded" else float(run["progress"] or 0.0)
    return html.Div(
        [
            html.Div(className="bar-fill", style={"width": f"{100 * share:.0f}%"}),
            html.Span(f"{run['stage']} {100 * share:.0f}%", className="bar-label"),
        ],
        className="bar",
    )
