"""The Dash application: pages for runs, a run's filters and one filter view.

Every view's state lives in its URL (built and parsed by :mod:`frontend.urls`), so copying the
address bar shares the exact view. Images are proxied through ``/media/...`` from the API, with
the API's caching headers, so the browser needs one origin only and caches every image. Dash
finds the pages in ``frontend/pages``; each module registers itself, and reaches the API
through :func:`frontend.client.api_client`.
"""

from __future__ import annotations

from pathlib import Path

import dash
import flask
from dash import Dash, Input, Output, dcc, html

from frontend import urls
from frontend.api_client import ApiClient, ApiError
from frontend.client import Api, api_client, install_client
from frontend.plotly_bundle import serve_plotly_bundle
from frontend.settings import UISettings

PACKAGE = "frontend"  # Dash names the page modules after it: frontend.pages.<page>
PAGES_FOLDER = Path(__file__).resolve().parent / "pages"


# The API's headers that let the browser cache an image (and revalidate it) pass unchanged.
CACHE_HEADERS = ("content-type", "etag", "cache-control", "last-modified", "expires")
# The browser's revalidation headers go on to the API, which answers 304 when they match.
CONDITIONAL_HEADERS = ("if-none-match", "if-modified-since")


def media(api_path: str) -> flask.Response:
    """``/media/<api_path>``: the API's answer to ``GET /<api_path>`` (an image), proxied with
    its caching headers (ETag, ``Cache-Control: immutable``) and its 304 to a revalidation."""
    sent = flask.request.headers
    asked = {name: sent[name] for name in CONDITIONAL_HEADERS if name in sent}
    params = flask.request.args.to_dict()
    try:
        upstream = api_client().request("GET", f"/{api_path}", params=params, headers=asked)
    except ApiError as exc:
        return flask.Response(exc.message, status=exc.status_code or 502, mimetype="text/plain")
    headers = {name: upstream.headers[name] for name in CACHE_HEADERS if name in upstream.headers}
    body = b"" if upstream.status_code == 304 else upstream.content
    return flask.Response(body, status=upstream.status_code, headers=headers)


# The address bar is the view's whole state: copying it shares the view.
COPY_LINK_JS = "function(n) { return window.location.href; }"


def shell() -> html.Div:
    """The frame of every page: the navigation bar, and the page container Dash fills in."""
    return html.Div(
        [
            html.Header(
                [
                    dcc.Link("partlens", href=urls.RunsPage().url(), className="brand"),
                    html.Span("interpretable CNN filters", className="tagline"),
                    html.Nav(
                        [
                            dcc.Link("Runs", href=urls.RunsPage().url()),
                            dcc.Link("Datasets", href=urls.DatasetPage("builtin").url()),
                        ],
                        className="nav-links",
                    ),
                    html.Span(
                        [
                            dcc.Clipboard(id="copy-link", title="copy the link of this view"),
                            html.Span("copy link"),
                        ],
                        className="copy-link",
                    ),
                ],
                className="topbar",
            ),
            html.Main(dash.page_container, className="content"),
        ]
    )


def register_bundles(app: Dash) -> None:
    """Finish Dash's per-process set-up now, before the server takes requests.

    Dash sets itself up on a process's first request, and registers the JavaScript and CSS
    bundles it may serve there; it marks that set-up done before doing it. With threads
    (gunicorn ``--threads``), the browser's parallel bundle requests reaching a fresh worker
    race it: the ones served meanwhile get a 500 ("dash is not a registered library") and the
    page stays on "Loading..." for good. One request at start-up, in each worker, closes that.
    """
    with app.server.test_client() as client:
        response = client.get(app.config.requests_pathname_prefix)
    if response.status_code != 200:
        raise RuntimeError(f"the UI's index page failed at start-up: {response.status_code}")


def create_app(settings: UISettings | None = None, client: Api | None = None) -> Dash:
    """Build the Dash app talking to the API at ``settings.api_url``.

    ``client`` replaces the HTTP client of that API (a test passes a fake); ``settings``
    default to those of the environment (``PARTLENS_API_URL``).
    """
    settings = settings or UISettings()
    app = Dash(
        PACKAGE,
        use_pages=True,
        pages_folder=str(PAGES_FOLDER),
        title="partlens",
        suppress_callback_exceptions=True,
    )
    install_client(app.server, client or ApiClient(settings.api_url))
    app.server.add_url_rule(f"{urls.MEDIA_PREFIX}/<path:api_path>", "media", media)
    serve_plotly_bundle(app.server, app.config.requests_pathname_prefix)
    app.layout = shell()
    app.clientside_callback(
        COPY_LINK_JS,
        Output("copy-link", "content"),
        Input("copy-link", "n_clicks"),
        prevent_initial_call=True,
    )
    return app
