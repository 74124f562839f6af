"""Every URL of the UI, built and parsed in this one module.

* View URLs, the address bar of each page. A view's whole state is in its URL, so a copied
  address reproduces the exact view: :class:`RunsPage` ``/``, :class:`RunPage`
  ``/runs/<run_id>[?layer=<layer>&sort=peak&desc=1&min_peak=0.5]``, :class:`FilterPage`
  ``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>[&overlay=rf]`` and
  :class:`ComparePage` ``/runs/<run_id>/compare``.
* Media URLs, the images the browser loads through the UI's ``/media`` proxy of the API:
  :class:`OverlayImage`, :class:`DatasetImage`, :class:`HeatmapImage`, :class:`SheetImage`
  (a layer's contact sheet) and :class:`PanelImage` (the paper's Fig. 4 panel).
* API paths, relative to the API's base URL, that the pages call: the ``api_*`` functions.

Each view and media class builds its URL with ``url()``, and :func:`parse` turns such a URL back
into the object (``parse(x.url()) == x``). Path segments are percent-encoded.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

Overlay: TypeAlias = Literal["heat", "rf"]
OVERLAYS: tuple[Overlay, ...] = ("heat", "rf")
Sort: TypeAlias = Literal["filter", "peak", "mean"]
SORTS: tuple[Sort, ...] = ("filter", "peak", "mean")
MEDIA_PREFIX = "/media"

API_RUNS = "/runs"
API_ARCHITECTURES = "/architectures"
API_BUILTIN_DATASETS = "/datasets/builtin"


def _seg(value: str | int) -> str:
    return quote(str(value), safe="")


def _with_query(path: str, query: dict[str, Any]) -> str:
    given = {key: value for key, value in query.items() if value is not None}
    return f"{path}?{urlencode(given)}" if given else path


def _index(value: Any, default: int | None = None) -> int | None:
    """``value`` as an index >= 0 (``default`` when it is None), None when it is no such number."""
    if value is None:
        return default
    try:
        index = int(value)
    except (TypeError, ValueError):
        return None
    return index if index >= 0 else None


def _flag(value: Any) -> bool | None:
    """A query flag: absent or ``0`` is False, ``1`` True; None for anything else."""
    if value is None or value == "0":
        return False
    return True if value == "1" else None


def _threshold(value: Any) -> float | None:
    """A finite number from the query; None when it is no such number."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return number if math.isfinite(number) else None


def _segment(value: str | None) -> str | None:
    """A path value as Dash hands it over, decoded; None when empty or when it spans segments.

    Dash's template wildcard also matches ``/``: ``/runs/a/b`` gives the run page ``a/b``,
    an address of no view (a slash inside a value comes encoded, ``%2F``).
    """
    return unquote(value) if value and "/" not in value else None


def _run_path(run_id: str) -> str:
    return f"/runs/{_seg(run_id)}"


def _filter_path(run_id: str, layer: str, filter_index: int) -> str:
    return f"{_run_path(run_id)}/layers/{_seg(layer)}/filters/{_seg(filter_index)}"


# --- API paths (the UI's views mirror their shape) ------------------------------------------


def api_run(run_id: str) -> str:
    """API path of one run."""
    return _run_path(run_id)


def api_features(run_id: str) -> str:
    """API path of a run's feature summary (layers, filter counts, number of images)."""
    return f"{api_run(run_id)}/features"


def api_metrics(run_id: str) -> str:
    """API path of a run's evaluation metrics."""
    return f"{api_run(run_id)}/metrics"


def api_comparison(run_id: str) -> str:
    """API path of the comparison of a run with its twin."""
    return f"{api_run(run_id)}/comparison"


def api_layer_filters(run_id: str, layer: str) -> str:
    """API path of the list of a layer's filters (each with its best image)."""
    return f"{_run_path(run_id)}/layers/{_seg(layer)}/filters"


def api_filter(run_id: str, layer: str, filter_index: int, what: str) -> str:
    """API path of one filter's ``what`` (``activation``, ``top``, ``overlay.png``)."""
    return f"{_filter_path(run_id, layer, filter_index)}/{what}"


def api_history(run_id: str) -> str:
    """API path of a run's training curves."""
    return f"{api_run(run_id)}/history"


def api_log(run_id: str) -> str:
    """API path of the tail of a run's log."""
    return f"{api_run(run_id)}/log"


def api_layer(run_id: str, layer: str, what: str) -> str:
    """API path of one layer's ``what`` (``sheet.png``, ``sheet.json``)."""
    return f"{_run_path(run_id)}/layers/{_seg(layer)}/{what}"


# --- media URLs -----------------------------------------------------------------------------


@dataclass(frozen=True)
class OverlayImage:
    """A filter drawn over one image: its activation (``heat``) or receptive fields (``rf``).

    ``mode`` None leaves the choice to the API (the activation).
    """

    run_id: str
    layer: str
    filter_index: int
    image: int = 0
    mode: Overlay | None = None

    def url(self) -> str:
        """The media URL of the image."""
        api_path = api_filter(self.run_id, self.layer, self.filter_index, "overlay.png")
        return _with_query(MEDIA_PREFIX + api_path, {"image": self.image, "mode": self.mode})


@dataclass(frozen=True)
class DatasetImage:
    """One evaluation image of a run, as the network sees it."""

    run_id: str
    image: int

    def url(self) -> str:
        """The media URL of the image."""
        return f"{MEDIA_PREFIX}{_run_path(self.run_id)}/images/{_seg(self.image)}.png"


@dataclass(frozen=True)
class HeatmapImage:
    """A run's part heat map of one category (the paper's Fig. 6)."""

    run_id: str
    category: str

    def url(self) -> str:
        """The media URL of the image."""
        return f"{MEDIA_PREFIX}{_run_path(self.run_id)}/heatmaps/{_seg(self.category)}.png"


@dataclass(frozen=True)
class SheetImage:
    """A page of a layer's filters as one contact sheet: each filter's top image, in ``sort``
    order, ``columns`` tiles of ``tile`` pixels per row (``sheet.json`` lists the tiles)."""

    run_id: str
    layer: str
    sort: Sort = "filter"
    desc: bool = False
    limit: int = 64
    columns: int = 8
    tile: int = 96

    def params(self) -> dict[str, Any]:
        """The query of the sheet, shared by ``sheet.png`` and ``sheet.json``."""
        query: dict[str, Any] = {"limit": self.limit, "columns": self.columns, "tile": self.tile}
        # Only a descending sheet says so: the client would send an absent flag as empty.
        return query | {"sort": self.sort} | ({"desc": 1} if self.desc else {})

    def url(self) -> str:
        """The media URL of the image."""
        api_path = api_layer(self.run_id, self.layer, "sheet.png")
        return _with_query(MEDIA_PREFIX + api_path, self.params())


@dataclass(frozen=True)
class PanelImage:
    """The paper's Fig. 4 for a filter on an image: image, mask, masked map and RF region."""

    run_id: str
    layer: str
    filter_index: int
    image: int = 0
    size: int = 224

    def url(self) -> str:
        """The media URL of the image."""
        api_path = api_filter(self.run_id, self.layer, self.filter_index, "panel.png")
        return _with_query(MEDIA_PREFIX + api_path, {"image": self.image, "size": self.size})


# --- view URLs ------------------------------------------------------------------------------


@dataclass(frozen=True)
class RunsPage:
    """``/``: the runs table and the launch form."""

    PATH: ClassVar[str] = "/"

    def url(self) -> str:
        """The page's URL."""
        return self.PATH


@dataclass(frozen=True)
class RunPage:
    """``/runs/<run_id>``: a run's status and the filter grid of one layer (None: the top),
    its tiles in ``sort`` order (``desc``: descending), those peaking below ``min_peak`` greyed.
    """

    TEMPLATE: ClassVar[str] = "/runs/<run_id>"  # Dash's path template of the page
    # The address's shape, as the not-found page explains it.
    SHAPE: ClassVar[str] = (
        "/runs/<run id>[?layer=<layer>&sort=filter|peak|mean&desc=0|1&min_peak=<number>]"
    )

    run_id: str
    layer: str | None = None
    sort: Sort = "filter"
    desc: bool = False
    min_peak: float | None = None

    @classmethod
    def from_dash(
        cls,
        run_id: str | None,
        layer: Any = None,
        sort: Any = "filter",
        desc: Any = None,
        min_peak: Any = None,
    ) -> RunPage | None:
        """The view of the values Dash hands the page layout; None when they are malformed.

        Path values come as they stand in the URL (percent-encoded), query values decoded.
        A repeated layer is ignored; ``desc`` is ``0`` or ``1``; an empty ``min_peak`` is none.
        """
        descending = _flag(desc)
        threshold = None if min_peak in (None, "") else _threshold(min_peak)
        bad_threshold = min_peak not in (None, "") and threshold is None
        run = _segment(run_id)
        if run is None or sort not in SORTS or descending is None or bad_threshold:
            return None
        layer = layer if isinstance(layer, str) else None
        return cls(run, layer, sort, descending, threshold)

    def url(self) -> str:
        """The page's URL (the sort only when it is not the default, by filter ascending)."""
        query = {
            "layer": self.layer,
            "sort": None if self.sort == "filter" else self.sort,
            "desc": 1 if self.desc else None,
            "min_peak": None if self.min_peak is None else repr(self.min_peak),
        }
        return _with_query(_run_path(self.run_id), query)


@dataclass(frozen=True)
class ComparePage:
    """``/runs/<run_id>/compare``: a run and its twin side by side."""

    TEMPLATE: ClassVar[str] = "/runs/<run_id>/compare"

    run_id: str

    @classmethod
    def from_dash(cls, run_id: str | None) -> ComparePage | None:
        """The view of the path value Dash hands the page layout (encoded); None without one."""
        run = _segment(run_id)
        return None if run is None else cls(run)

    def url(self) -> str:
        """The page's URL."""
        return f"{_run_path(self.run_id)}/compare"


@dataclass(frozen=True)
class FilterPage:
    """``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>``: one filter on one image."""

    TEMPLATE: ClassVar[str] = "/runs/<run_id>/layers/<layer>/filters/<filter_index>"

    run_id: str
    layer: str
    filter_index: int
    image: int = 0
    overlay: Overlay = "heat"

    @classmethod
    def from_dash(
        cls,
        run_id: str | None,
        layer: str | None,
        filter_index: Any,
        image: Any = "0",
        overlay: Any = "heat",
    ) -> FilterPage | None:
        """The view of the values Dash hands the page layout; None when they are malformed.

        Path values come as they stand in the URL (percent-encoded), query values decoded.
        An absent filter or image is 0; an overlay is ``heat`` or ``rf``.
        """
        f, i = _index(filter_index, 0), _index(image, 0)
        run, name = _segment(run_id), _segment(layer)
        if run is None or name is None or f is None or i is None or overlay not in OVERLAYS:
            return None
        return cls(run, name, f, i, overlay)

    def url(self) -> str:
        """The page's URL (``overlay`` only when it is not the default, ``heat``)."""
        path = _filter_path(self.run_id, self.layer, self.filter_index)
        overlay = None if self.overlay == "heat" else self.overlay
        return _with_query(path, {"image": self.image, "overlay": overlay})

    def overlay_image(self, image: int | None = None) -> OverlayImage:
        """This filter over ``image`` (default: the view's), in the view's overlay mode."""
        image = self.image if image is None else image
        return OverlayImage(self.run_id, self.layer, self.filter_index, image, self.overlay)

    def dataset_image(self) -> DatasetImage:
        """The view's image without overlay."""
        return DatasetImage(self.run_id, self.image)

    def run_page(self) -> RunPage:
        """The run page showing this filter's layer."""
        return RunPage(self.run_id, self.layer)


Route: TypeAlias = (
    RunsPage
    | RunPage
    | ComparePage
    | FilterPage
    | OverlayImage
    | DatasetImage
    | HeatmapImage
    | SheetImage
    | PanelImage
)


# --- parsing --------------------------------------------------------------------------------


def _query(query_string: str) -> dict[str, Any]:
    """Query values as Dash passes them to a layout: one string, or a list when repeated."""
    parsed = parse_qs(query_string, keep_blank_values=True)
    return {key: values[0] if len(values) == 1 else values for key, values in parsed.items()}


def _png_stem(name: str) -> str | None:
    """``name`` without its ``.png`` suffix; None when it names no PNG file."""
    stem = name.removesuffix(".png")
    return stem if stem and stem != name else None


def _parse_view(segments: list[str], query: dict[str, Any]) -> Route | None:
    match segments:
        case [""]:
            return RunsPage()
        case ["runs", run_id]:
            keys = ("layer", "sort", "desc", "min_peak")
            return RunPage.from_dash(run_id, **{key: query[key] for key in keys if key in query})
        case ["runs", run_id, "compare"]:
            return ComparePage.from_dash(run_id)
        case ["runs", run_id, "layers", layer, "filters", f]:
            return FilterPage.from_dash(
                run_id, layer, f, query.get("image", "0"), query.get("overlay", "heat")
            )
    return None


def _parse_sheet(run_id: str, layer: str, query: dict[str, Any]) -> SheetImage | None:
    sizes = [_index(query.get(key)) for key in ("limit", "columns", "tile")]
    sort, desc = query.get("sort", "filter"), _flag(query.get("desc"))
    if None in sizes or sort not in SORTS or desc is None:
        return None
    limit, columns, tile = (int(size or 0) for size in sizes)
    return SheetImage(run_id, layer, sort, desc, limit, columns, tile)


def _parse_media(segments: list[str], query: dict[str, Any]) -> Route | None:
    match segments:
        case ["runs", run_id, "layers", layer, "filters", f, "overlay.png"]:
            index, image, mode = _index(f), _index(query.get("image"), 0), query.get("mode")
            if index is None or image is None or mode not in (*OVERLAYS, None):
                return None
            return OverlayImage(unquote(run_id), unquote(layer), index, image, mode)
        case ["runs", run_id, "layers", layer, "filters", f, "panel.png"]:
            index, image, size = _index(f), _index(query.get("image"), 0), _index(query.get("size"))
            if index is None or image is None or size is None:
                return None
            return PanelImage(unquote(run_id), unquote(layer), index, image, size)
        case ["runs", run_id, "layers", layer, "sheet.png"]:
            return _parse_sheet(unquote(run_id), unquote(layer), query)
        case ["runs", run_id, "images", name] if (stem := _png_stem(name)) is not None:
            image = _index(stem)
            return None if image is None else DatasetImage(unquote(run_id), image)
        case ["runs", run_id, "heatmaps", name] if (stem := _png_stem(name)) is not None:
            return HeatmapImage(unquote(run_id), unquote(stem))
    return None


def parse(url: str) -> Route | None:
    """The view or media image that ``url`` addresses; None for any other URL.

    Accepts a path with its query (``/runs/a?layer=b``) or a whole URL (the host is ignored).
    """
    parts = urlsplit(url)
    query = _query(parts.query)
    if parts.path == MEDIA_PREFIX or parts.path.startswith(MEDIA_PREFIX + "/"):
        segments = parts.path.removeprefix(MEDIA_PREFIX).strip("/").split("/")
        return _parse_media(segments, query)
    return _parse_view(parts.path.strip("/").split("/"), query)
