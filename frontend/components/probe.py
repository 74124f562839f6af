"""The probe pages: upload an image, then every filter of a run (and of its twin) on it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any, NamedTuple

from dash import dcc, html

from frontend import urls
from frontend.components.common import run_kind
from frontend.components.grid import Tile, contact_sheet

ACCEPTED = "image/png,image/jpeg"
MAX_UPLOAD_BYTES = 10 * 1024 * 1024  # the API's limit: said before the upload travels
SHEET_LIMIT = 512
OVERLAY_NAMES = {"heat": "activation", "rf": "receptive fields"}


class ProbeSide(NamedTuple):
    """One probed run: the probe, its run, and the chosen filter's activation (None: failed)."""

    probe: dict[str, Any]
    run: dict[str, Any]
    activation: dict[str, Any] | None


def upload_page(page: urls.ProbeUploadPage, run: dict[str, Any]) -> html.Div:
    """The upload box for the run's probe (and its twin's)."""
    twin = run.get("twin_id")
    both = f"run {run['id']} and its twin {twin}" if twin else f"run {run['id']}"
    return html.Div(
        [
            dcc.Store(id="probe-run", data={"run_id": run["id"], "twin_id": twin}),
            dcc.Location(id="probe-location", refresh="callback-nav"),
            html.H2(["Probe ", dcc.Link(run["id"], href=urls.RunPage(run["id"]).url())]),
            html.P(
                f"Upload a PNG or JPEG image (at most 10 MB): {both} run on it, and every filter "
                "shows its response. The image is resized and centre-cropped to the model's input."
            ),
            dcc.Upload(
                html.Div(["Drop an image here or ", html.A("choose a file")]),
                id="probe-upload",
                accept=ACCEPTED,
                multiple=False,
                max_size=MAX_UPLOAD_BYTES,
                className="upload",
            ),
            dcc.Loading(html.Div(id="probe-message", className="message")),
        ],
        id="probe-upload-page",
    )


def upload_error(status: int | None, message: str) -> html.Div:
    """What went wrong with an upload, in the user's terms, with the API's reason."""
    reasons = {
        413: "The image is too large (at most 10 MB).",
        415: "That file is not a PNG or JPEG image.",
        422: "That file could not be read as an image.",
        409: "The run has not succeeded yet: probe it once it is trained.",
    }
    lead = reasons.get(status or 0, "The probe failed.")
    return html.Div([html.Strong(lead), html.Span(f" ({message})")], className="error")


def _label(run: dict[str, Any]) -> str:
    return f"{run['id']} ({run_kind(run)}, {run['config']['arch']})"


def _heading(side: ProbeSide) -> html.H3:
    run = side.run
    return html.H3(
        [
            dcc.Link(run["id"], href=urls.RunPage(run["id"]).url()),
            f" ({run_kind(run)}, {run['config']['arch']})",
        ]
    )


def probe_sheet(
    page: urls.ProbePage, probe: dict[str, Any], layer: str, sheet: dict[str, Any]
) -> html.Div:
    """Every filter of ``layer`` on the probe image, each tile choosing that filter."""

    def link(f: int) -> Tile:
        return Tile(replace(page, filter_index=f).url(), f"filter {f}", False, f"#{f}")

    image = sheet_image(probe, layer)
    return contact_sheet(image.url(), sheet, link, f"filters of {layer} on the probe")


def sheet_image(probe: dict[str, Any], layer: str) -> urls.ProbeSheetImage:
    """The contact sheet of a probe's layer: all its filters (up to the API's largest sheet)."""
    count = next((item["filters"] for item in probe["layers"] if item["name"] == layer), 1)
    return urls.ProbeSheetImage(probe["id"], layer, limit=max(1, min(count, SHEET_LIMIT)))


def layer_links(page: urls.ProbePage, layers: list[str], active: str) -> html.Div:
    """One link per layer of the probe."""
    return html.Div(
        [html.Span("layer", className="muted")]
        + [
            dcc.Link(
                name,
                href=replace(page, layer=name, filter_index=0).url(),
                className="pill active" if name == active else "pill",
            )
            for name in layers
        ],
        className="pills",
    )


def filter_detail(page: urls.ProbePage, side: ProbeSide, layer: str, n: int) -> html.Div:
    """The chosen filter on the probe: its overlay and the Fig. 4 panel (map, mask, RF)."""
    f, pid = page.filter_index, side.probe["id"]
    overlay = urls.ProbeFilterImage(pid, layer, f, "overlay.png", page.overlay)
    act = side.activation
    stats = (
        "no response"
        if act is None
        else (
            f"peak {act['max']:.3f} at unit (row {act['argmax'][0]}, col {act['argmax'][1]}); "
            f"heat scale: the run's max {act['filter_max']:.3f}"
        )
    )
    return html.Div(
        [
            _heading(side),
            html.Div(
                [
                    html.Figure(
                        [
                            html.Img(src=urls.ProbeInput(pid).url(), className="big"),
                            html.Figcaption("the image as the model saw it"),
                        ]
                    ),
                    html.Figure(
                        [
                            html.Img(src=overlay.url(), className="big", id=f"probe-overlay-{n}"),
                            html.Figcaption(f"filter {f}: {OVERLAY_NAMES[page.overlay]}"),
                        ]
                    ),
                ],
                className="pair",
            ),
            html.P(stats, className="muted"),
        ],
        className="probe-detail",
    )


def panel_row(page: urls.ProbePage, side: ProbeSide, layer: str) -> html.Figure:
    """The paper's Fig. 4 of the chosen filter on the probe, at full size."""
    panel = urls.ProbeFilterImage(side.probe["id"], layer, page.filter_index, "panel.png")
    return html.Figure(
        [
            html.Img(src=panel.url(), className="panel", alt="Fig. 4 panel"),
            html.Figcaption(
                f"{_label(side.run)}: the image, the mask T of the peak unit, the masked map and "
                "the region S_f"
            ),
        ]
    )


def probe_view(
    page: urls.ProbePage,
    sides: list[ProbeSide],
    layer: str,
    sheets: list[dict[str, Any]],
) -> html.Div:
    """The probe page: per probed run its contact sheet, then the chosen filter in each."""
    first = sides[0]
    layers = [item["name"] for item in first.probe["layers"]]
    count = next((item["filters"] for item in first.probe["layers"] if item["name"] == layer), 1)
    f = page.filter_index

    def step(label: str, id: str, to: int) -> dcc.Link:
        return dcc.Link(label, href=replace(page, filter_index=to % count).url(), id=id)

    overlay_links: list[Any] = [
        dcc.Link("activation", href=replace(page, overlay="heat").url()),
        " / ",
        dcc.Link("receptive fields", href=replace(page, overlay="rf").url()),
    ]
    return html.Div(
        [
            html.H2(
                ["Probe of ", dcc.Link(first.run["id"], href=urls.RunPage(first.run["id"]).url())]
            ),
            html.P(
                dcc.Link("probe another image", href=urls.ProbeUploadPage(first.run["id"]).url())
            ),
            layer_links(page, layers, layer),
            html.Div(
                [
                    step("< filter", "filter-prev", f - 1),
                    html.Span(f"filter {f} / {count}"),
                    step("filter >", "filter-next", f + 1),
                    html.Span(["show: ", *overlay_links]),
                    html.Span("keys: ← → filter", className="muted keys"),
                ],
                className="nav",
            ),
            html.Div(
                [filter_detail(page, side, layer, n) for n, side in enumerate(sides)],
                className="pair probe-pair",
            ),
            html.H3(f"Fig. 4: filter {f} on the image"),
            *[panel_row(page, side, layer) for side in sides],
            html.H3(f"Every filter of {layer} on the image (click one)"),
            *[
                html.Div(
                    [_heading(side), probe_sheet(page, side.probe, layer, sheet)],
                    className="probe-sheet",
                )
                for side, sheet in zip(sides, sheets, strict=True)
            ],
        ],
        id="probe-view",
    )
