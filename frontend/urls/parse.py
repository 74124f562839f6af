"""Turning a URL back into the view or run image it addresses (``parse(x.url()) == x``)."""

from __future__ import annotations

from typing import Any, TypeAlias
from urllib.parse import unquote, urlsplit

from frontend.urls._values import MEDIA_PREFIX, flag, index, png_stem, query_of
from frontend.urls.media import (
    OVERLAYS,
    SHEET_SORTS,
    DatasetImage,
    HeatmapImage,
    OverlayImage,
    PanelImage,
    SheetImage,
)
from frontend.urls.probe_views import DatasetPage, ProbePage, ProbeUploadPage
from frontend.urls.views import ComparePage, FilterPage, RunPage, RunsPage

Route: TypeAlias = (
    RunsPage
    | RunPage
    | ComparePage
    | FilterPage
    | ProbeUploadPage
    | ProbePage
    | DatasetPage
    | OverlayImage
    | DatasetImage
    | HeatmapImage
    | SheetImage
    | PanelImage
)

RUN_QUERY = ("layer", "sort", "desc", "min_peak", "part", "category", "offset")


def _parse_view(segments: list[str], query: dict[str, Any]) -> Route | None:
    match segments:
        case [""]:
            return RunsPage.from_dash(**{key: query[key] for key in RunsPage.QUERY if key in query})
        case ["runs", run_id]:
            return RunPage.from_dash(
                run_id, **{key: query[key] for key in RUN_QUERY if key in query}
            )
        case ["runs", run_id, "compare"]:
            return ComparePage.from_dash(
                run_id,
                query.get("with"),
                query.get("layer"),
                query.get("filter"),
                query.get("image"),
            )
        case ["runs", run_id, "probe"]:
            return ProbeUploadPage.from_dash(run_id)
        case ["runs", run_id, "layers", layer, "filters", f]:
            return FilterPage.from_dash(
                run_id, layer, f, query.get("image", "0"), query.get("overlay", "heat")
            )
        case ["probes", probe_id]:
            return ProbePage.from_dash(
                probe_id,
                query.get("twin"),
                query.get("layer"),
                query.get("filter"),
                query.get("overlay", "heat"),
            )
        case ["datasets", name]:
            return DatasetPage.from_dash(
                name,
                query.get("split", "train"),
                query.get("overlay", "masks"),
                query.get("offset"),
            )
    return None


def _parse_sheet(run_id: str, layer: str, query: dict[str, Any]) -> SheetImage | None:
    sizes = [index(query.get(key)) for key in ("limit", "columns", "tile")]
    sort, desc, offset = (
        query.get("sort", "filter"),
        flag(query.get("desc")),
        index(query.get("offset"), 0),
    )
    if None in sizes or sort not in SHEET_SORTS or desc is None or offset is None:
        return None
    limit, columns, tile = (int(size or 0) for size in sizes)
    return SheetImage(run_id, layer, sort, desc, limit, columns, tile, offset)


def _parse_media(segments: list[str], query: dict[str, Any]) -> Route | None:
    match segments:
        case ["runs", run_id, "layers", layer, "filters", f, "overlay.png"]:
            number, image, mode = index(f), index(query.get("image"), 0), query.get("mode")
            if number is None or image is None or mode not in (*OVERLAYS, None):
                return None
            return OverlayImage(unquote(run_id), unquote(layer), number, image, mode)
        case ["runs", run_id, "layers", layer, "filters", f, "panel.png"]:
            number, image, size = index(f), index(query.get("image"), 0), index(query.get("size"))
            if number is None or image is None or size is None:
                return None
            return PanelImage(unquote(run_id), unquote(layer), number, image, size)
        case ["runs", run_id, "layers", layer, "sheet.png"]:
            return _parse_sheet(unquote(run_id), unquote(layer), query)
        case ["runs", run_id, "images", name] if (stem := png_stem(name)) is not None:
            image = index(stem)
            return None if image is None else DatasetImage(unquote(run_id), image)
        case ["runs", run_id, "heatmaps", name] if (stem := png_stem(name)) is not None:
            return HeatmapImage(unquote(run_id), unquote(stem))
    return None


def parse(url: str) -> Route | None:
    """The view or run image that ``url`` addresses; None for any other URL.

    Accepts a path with its query (``/runs/a?layer=b``) or a whole URL (the host is ignored).
    """
    parts = urlsplit(url)
    query = query_of(parts.query)
    if parts.path == MEDIA_PREFIX or parts.path.startswith(MEDIA_PREFIX + "/"):
        segments = parts.path.removeprefix(MEDIA_PREFIX).strip("/").split("/")
        return _parse_media(segments, query)
    return _parse_view(parts.path.strip("/").split("/"), query)
