"""The plotly.js the UI's charts load: plotly's cartesian bundle instead of Dash's full one.

Dash's graphs fetch ``_dash-component-suites/plotly/package_data/plotly.min.js`` (the full
plotly.js, 4.8 MB) when a page first draws a chart. Evaluating it cost the run page about 0.8 s
of script time in headless Chromium before any chart was drawn. Every chart of the app is a
bar, scatter or heat map, all in plotly's cartesian bundle (1.5 MB, the same plotly.js
version as the plotly package: ``vendor/plotly-cartesian.min.js``, MIT, ``vendor/plotly-
LICENSE.txt``), so the UI answers that path with it, gzipped when the browser accepts it.
"""

from __future__ import annotations

import gzip
import hashlib
from functools import cache
from pathlib import Path

import flask

BUNDLE = Path(__file__).resolve().parent / "vendor" / "plotly-cartesian.min.js"
# Where Dash's renderer loads plotly.js from when it serves its scripts itself.
DASH_PLOTLY_PATH = "_dash-component-suites/plotly/package_data/plotly.min.js"
MAX_AGE_S = 3600  # the path has no fingerprint: revalidate (ETag) now and then


@cache
def _bundle() -> tuple[bytes, bytes, str]:
    """The bundle as it is and gzipped, and its ETag (read and compressed once per process)."""
    body = BUNDLE.read_bytes()
    return body, gzip.compress(body, compresslevel=6), hashlib.sha256(body).hexdigest()[:32]


def plotly_js() -> flask.Response:
    """The cartesian plotly.js bundle, gzipped when accepted, with an ETag (304 when matched)."""
    body, zipped, etag = _bundle()
    if flask.request.if_none_match.contains(etag):
        response = flask.Response(status=304)
    elif "gzip" in flask.request.accept_encodings:
        response = flask.Response(zipped, mimetype="application/javascript")
        response.headers["Content-Encoding"] = "gzip"
    else:
        response = flask.Response(body, mimetype="application/javascript")
    response.set_etag(etag)
    response.headers["Vary"] = "Accept-Encoding"
    response.cache_control.public = True
    response.cache_control.max_age = MAX_AGE_S
    return response


def serve_plotly_bundle(server: flask.Flask, prefix: str) -> None:
    """Answer Dash's plotly.js path under ``prefix`` (the app's requests prefix) with the bundle.

    A static rule wins over Dash's ``<package>/<path>`` rule for the same path. An install that
    left the vendored file out (package data without ``*.js``) keeps Dash's full bundle.
    """
    if BUNDLE.is_file():
        server.add_url_rule(f"{prefix}{DASH_PLOTLY_PATH}", "plotly_js", plotly_js)
