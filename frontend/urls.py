"""Every URL of the UI, built and parsed in this one module.

* View URLs, the address bar of each page. A view's whole state is in its URL, so a copied
  address reproduces the exact view: :class:`RunsPage` ``/``, :class:`RunPage`
  ``/runs/<run_id>[?layer=<layer>]``, :class:`FilterPage`
  ``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>[&overlay=rf]`` and
  :class:`ComparePage` ``/runs/<run_id>/compare``.
* Media URLs, the images the browser loads through the UI's ``/media`` proxy of the API:
  :class:`OverlayImage`, :class:`DatasetImage` and :class:`HeatmapImage`.
* API paths, relative to the API's base URL, that the pages call: the ``api_*`` functions.

Each view and media class builds its URL with ``url()``, and :func:`parse` turns such a URL back
into the object (``parse(x.url()) == x``). Path segments are percent-encoded.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias
from urllib.parse import parse_qs, quote, unquote, urlencode, urlsplit

Overlay: TypeAlias = Literal["heat", "rf"]
OVERLAYS: tuple[Overlay, ...] = ("heat", "rf")
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
    """``/runs/<run_id>``: a run's status and the filter grid of one layer (None: the top)."""

    TEMPLATE: ClassVar[str] = "/runs/<run_id>"  # Dash's path template of the page

    run_id: str
    layer: str | None = None

    @classmethod
    def from_dash(cls, run_id: str | None, layer: Any = None) -> RunPage | None:
        """The view of the values Dash hands the page layout; None without a run.

        Path values come as they stand in the URL (percent-encoded), query values decoded.
        """
        if not run_id:
            return None
        return cls(unquote(run_id), layer if isinstance(layer, str) else None)

    def url(self) -> str:
        """The page's URL."""
        return _with_query(_run_path(self.run_id), {"layer": self.layer})


@dataclass(frozen=True)
class ComparePage:
    """``/runs/<run_id>/compare``: a run and its twin side by side."""

    TEMPLATE: ClassVar[str] = "/runs/<run_id>/compare"

    run_id: str

    @classmethod
    def from_dash(cls, run_id: str | None) -> ComparePage | None:
        """The view of the path value Dash hands the page layout (encoded); None without one."""
        return cls(unquote(run_id)) if run_id else None

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
        if not run_id or not layer or f is None or i is None or overlay not in OVERLAYS:
            return None
        return cls(unquote(run_id), unquote(layer), f, i, overlay)

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
    RunsPage | RunPage | ComparePage | FilterPage | OverlayImage | DatasetImage | HeatmapImage
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
            return RunPage.from_dash(run_id, query.get("layer"))
        case ["runs", run_id, "compare"]:
            return ComparePage.from_dash(run_id)
        case ["runs", run_id, "layers", layer, "filters", f]:
            return FilterPage.from_dash(
                run_id, layer, f, query.get("image", "0"), query.get("overlay", "heat")
            )
    return None


def _parse_media(segments: list[str], query: dict[str, Any]) -> Route | None:
    match segments:
        case ["runs", run_id, "layers", layer, "filters", f, "overlay.png"]:
            index, image, mode = _index(f), _index(query.get("image"), 0), query.get("mode")
            if index is None or image is None or mode not in (*OVERLAYS, None):
                return None
            return OverlayImage(unquote(run_id), unquote(layer), index, image, mode)
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
