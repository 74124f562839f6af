"""``/runs/<run_id>/probe``: upload an image to probe a run's model (and its twin's)."""

from __future__ import annotations

import base64
import binascii
from typing import Any

import dash
from dash import Input, Output, State, callback, html, no_update

from frontend import urls
from frontend.api_client import ApiError
from frontend.client import api_client
from frontend.components.common import error_box, not_found
from frontend.components.probe import MAX_UPLOAD_BYTES, upload_error, upload_page

# Before the run page, whose template would match this one's URLs too.
dash.register_page(
    __name__,
    path_template=urls.ProbeUploadPage.TEMPLATE,
    name="Probe",
    title="partlens · probe",
    order=2,
)


def layout(run_id: str | None = None, **_query: Any) -> html.Div:
    """The upload box of the run the URL names, or why there is none."""
    page = urls.ProbeUploadPage.from_dash(run_id)
    if page is None:
        return not_found(f"Bad probe address: run {run_id!r}")
    try:
        run = api_client().get_json(urls.api_run(page.run_id))
    except ApiError as exc:
        return not_found(exc.message) if exc.status_code == 404 else error_box(exc.message)
    return upload_page(page, run)


def decoded(contents: str) -> bytes | None:
    """The bytes of a ``data:<type>;base64,<data>`` URL as dcc.Upload gives them; None when
    it is no such URL."""
    _, _, data = contents.partition(";base64,")
    try:
        return base64.b64decode(data, validate=True) if data else None
    except (binascii.Error, ValueError):
        return None


def probe_both(run: dict[str, Any], name: str, content: bytes) -> urls.ProbePage:
    """Probe the run with ``content`` and, when it has one, its twin; the page of both (a twin
    that cannot be probed, e.g. not trained yet, is left out)."""
    api = api_client()
    probe = api.post_file(urls.api_probes(run["run_id"]), "image", name, content)
    twin = None
    if run.get("twin_id"):
        try:
            twin = api.post_file(urls.api_probes(run["twin_id"]), "image", name, content)["id"]
        except ApiError:
            twin = None
    return urls.ProbePage(probe["id"], twin)


@callback(
    Output("probe-location", "href"),
    Output("probe-message", "children"),
    Input("probe-upload", "contents"),
    State("probe-upload", "filename"),
    State("probe-run", "data"),
    prevent_initial_call=True,
)
def upload(contents: str | None, filename: str | None, run: dict[str, Any]) -> tuple[Any, Any]:
    """An uploaded image: the probe page of the run (and twin) on it, or what went wrong."""
    if not contents:
        return no_update, upload_error(None, "no file was chosen")
    content = decoded(contents)
    if content is None:
        return no_update, upload_error(422, "the upload is not base64 data")
    if len(content) > MAX_UPLOAD_BYTES:
        return no_update, upload_error(413, f"{len(content)} bytes")
    try:
        page = probe_both(run, filename or "upload", content)
    except ApiError as exc:
        return no_update, upload_error(exc.status_code, exc.message)
    return page.url(), ""
