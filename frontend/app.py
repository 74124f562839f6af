"""The Dash application: pages for runs, a run's filters and one filter view.

Every view's state lives in its URL, so copying the address bar shares the exact view.
Images are proxied through ``/media/...`` from the API so the browser needs one origin only.
"""

from __future__ import annotations

import dash
from dash import Dash, dcc, html
from flask import Response

from frontend.api_client import ApiClient, ApiError
from partlens.config import Settings, get_settings

_client: ApiClient | None = None


def api() -> ApiClient:
    """The API client of this UI process."""
    if _client is None:
        raise RuntimeError("create_app() has not been called")
    return _client


def create_app(settings: Settings | None = None) -> Dash:
    """Build the Dash app talking to the API at ``settings.api_url``."""
    global _client
    settings = settings or get_settings()
    _client = ApiClient(settings.api_url)
    app = Dash(
        __name__,
        use_pages=True,
        pages_folder="",
        title="partlens",
        suppress_callback_exceptions=True,
    )
    from frontend.pages import compare, filter_view, run_view, runs  # noqa: F401 - registers pages

    @app.server.route("/media/<path:api_path>")
    def media(api_path: str) -> Response:
        from flask import request

        try:
            upstream = api().request("GET", f"/{api_path}", params=request.args.to_dict())
        except ApiError as exc:
            return Response(exc.message, status=exc.status_code or 502, mimetype="text/plain")
        return Response(upstream.content, mimetype=upstream.headers.get("content-type"))

    app.layout = html.Div(
        [
            html.Header(
                [
                    dcc.Link("partlens", href="/", className="brand"),
                    html.Span("interpretable CNN filters", className="tagline"),
                ],
                className="topbar",
            ),
            html.Main(dash.page_container, className="content"),
        ]
    )
    return app
