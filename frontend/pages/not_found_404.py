"""Any address no page matches (Dash shows the ``not_found_404`` page for it)."""

from __future__ import annotations

from typing import Any

import dash
from dash import html

from frontend.components.common import not_found

# Dash finds this page by its module name; the order keeps it after every real page.
dash.register_page(__name__, name="Not found", title="partlens · not found", order=9)


def layout(**_query: Any) -> html.Div:
    """The not-found page, with the way back to the runs."""
    return not_found("No page has this address.")
