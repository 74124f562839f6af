"""View URLs, the address bar of each page: a view's whole state is in its URL, so a copied
address reproduces the exact view.

Each view has ``url()`` and ``from_dash(...)``, which reads the values Dash's router hands the
page layout: path values as they stand in the URL (percent-encoded), query values decoded (a
list when repeated). ``from_dash`` returns None for values that name no view.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar, Literal, TypeAlias

from frontend.urls._values import (
    filter_path,
    flag,
    index,
    optional_name,
    optional_threshold,
    run_path,
    segment,
    with_query,
)
from frontend.urls.media import (
    OVERLAYS,
    DatasetImage,
    Overlay,
    OverlayImage,
)

Sort: TypeAlias = Literal["filter", "peak", "mean", "part_score", "instability"]
SORTS: tuple[Sort, ...] = ("filter", "peak", "mean", "part_score", "instability")


RunsSort: TypeAlias = Literal[
    "created", "name", "status", "accuracy", "location_instability", "part_interpretability"
]
RUNS_SORTS: tuple[RunsSort, ...] = (
    "created",
    "name",
    "status",
    "accuracy",
    "location_instability",
    "part_interpretability",
)
RUN_STATUSES = ("queued", "running", "succeeded", "failed", "cancelled")
RUN_KINDS = ("interpretable", "ordinary")


@dataclass(frozen=True)
class RunsPage:
    """``/``: the runs table and the launch form.

    The table lists the runs in ``sort`` order (``desc``: descending, the API's default; runs
    without the value come last either way), only those in ``status``, of ``arch``, on
    ``dataset``, of ``kind`` and whose name or id contains ``q`` (None: any), a page of them
    from ``offset``.
    """

    PATH: ClassVar[str] = "/"
    QUERY: ClassVar[tuple[str, ...]] = (
        "sort",
        "desc",
        "status",
        "arch",
        "dataset",
        "kind",
        "q",
        "offset",
    )  # the query keys of the view, in from_dash's order
    SHAPE: ClassVar[str] = (
        "/[?sort=created|name|status|accuracy|location_instability|part_interpretability"
        "&desc=0|1&status=<status>&arch=<arch>&dataset=<dataset>"
        "&kind=interpretable|ordinary&q=<text>&offset=<n>]"
    )

    sort: RunsSort = "created"
    desc: bool = True
    status: str | None = None
    arch: str | None = None
    dataset: str | None = None
    kind: str | None = None
    q: str | None = None
    offset: int = 0

    @classmethod
    def from_dash(
        cls,
        sort: Any = "created",
        desc: Any = None,
        status: Any = None,
        arch: Any = None,
        dataset: Any = None,
        kind: Any = None,
        q: Any = None,
        offset: Any = None,
    ) -> RunsPage | None:
        """The view of the query Dash hands the page layout; None when it is malformed.

        ``desc`` is ``0`` or ``1`` (absent: 1); an empty filter is none; ``offset`` is an
        index (absent: 0).
        """
        descending = True if desc is None else flag(desc)
        names = [optional_name(value) for value in (status, arch, dataset, kind, q)]
        start = index(offset, 0)
        if descending is None or start is None or not all(good for good, _ in names):
            return None
        status_name, arch_name, dataset_name, kind_name, text = (name for _, name in names)
        if sort not in RUNS_SORTS or status_name not in (None, *RUN_STATUSES):
            return None
        if kind_name not in (None, *RUN_KINDS):
            return None
        return cls(sort, descending, status_name, arch_name, dataset_name, kind_name, text, start)

    def url(self) -> str:
        """The page's URL (each value only when it is not the default)."""
        return with_query(self.PATH, self._query() | {"offset": self.offset or None})

    def _query(self) -> dict[str, Any]:
        return {
            "sort": None if self.sort == "created" else self.sort,
            "desc": None if self.desc else 0,
            "status": self.status,
            "arch": self.arch,
            "dataset": self.dataset,
            "kind": self.kind,
            "q": self.q,
        }

    def api_params(self, limit: int) -> dict[str, Any]:
        """The query of ``GET /runs`` listing this page's runs (``limit`` of them)."""
        filters = {key: value for key, value in self._query().items() if value is not None}
        return filters | {
            "sort": self.sort,
            "desc": self.desc,
            "limit": limit,
            "offset": self.offset,
        }

    def filtered(self) -> bool:
        """Whether the table keeps only some runs."""
        return any(
            value is not None for value in (self.status, self.arch, self.dataset, self.kind, self.q)
        )


@dataclass(frozen=True)
class RunPage:
    """``/runs/<run_id>``: a run's status and the filter grid of one layer (None: the top).

    The grid shows the filters whose best part is ``part`` and whose target category is
    ``category`` (None: all), in ``sort`` order (``desc``: descending), a page of them from
    ``offset``; those peaking below ``min_peak`` are greyed.
    """

    TEMPLATE: ClassVar[str] = "/runs/<run_id>"  # Dash's path template of the page
    # The address's shape, as the not-found page explains it.
    SHAPE: ClassVar[str] = (
        "/runs/<run id>[?layer=<layer>&sort=filter|peak|mean|part_score|instability&desc=0|1"
        "&min_peak=<number>&part=<part>&category=<category>&offset=<n>]"
    )

    run_id: str
    layer: str | None = None
    sort: Sort = "filter"
    desc: bool = False
    min_peak: float | None = None
    part: str | None = None
    category: str | None = None
    offset: int = 0

    @classmethod
    def from_dash(
        cls,
        run_id: str | None,
        layer: Any = None,
        sort: Any = "filter",
        desc: Any = None,
        min_peak: Any = None,
        part: Any = None,
        category: Any = None,
        offset: Any = None,
    ) -> RunPage | None:
        """The view of the values Dash hands the page layout; None when they are malformed.

        A repeated layer is ignored; ``desc`` is ``0`` or ``1``; an empty ``min_peak``, ``part``
        or ``category`` is none; ``offset`` is an index (absent: 0).
        """
        descending = flag(desc)
        good_threshold, threshold = optional_threshold(min_peak)
        good_part, part_name = optional_name(part)
        good_category, category_name = optional_name(category)
        start = index(offset, 0)
        run = segment(run_id)
        checks = (good_threshold, good_part, good_category, sort in SORTS)
        if run is None or descending is None or start is None or not all(checks):
            return None
        layer = layer if isinstance(layer, str) else None
        return cls(run, layer, sort, descending, threshold, part_name, category_name, start)

    def url(self) -> str:
        """The page's URL (each value only when it is not the default)."""
        query = {
            "layer": self.layer,
            "sort": None if self.sort == "filter" else self.sort,
            "desc": 1 if self.desc else None,
            "min_peak": None if self.min_peak is None else repr(self.min_peak),
            "part": self.part,
            "category": self.category,
            "offset": self.offset or None,
        }
        return with_query(run_path(self.run_id), query)


@dataclass(frozen=True)
class ComparePage:
    """``/runs/<run_id>/compare[?with=<other>&layer=<l>&filter=<f>&image=<i>]``: two runs side
    by side (``other`` None: the run's twin), and filter ``filter_index`` of ``layer`` (None:
    the top layer) on image ``image`` in both (None: the left run's top image of the filter)."""

    TEMPLATE: ClassVar[str] = "/runs/<run_id>/compare"

    run_id: str
    other: str | None = None
    layer: str | None = None
    filter_index: int = 0
    image: int | None = None

    @classmethod
    def from_dash(
        cls,
        run_id: str | None,
        other: Any = None,
        layer: Any = None,
        filter_index: Any = None,
        image: Any = None,
    ) -> ComparePage | None:
        """The view of the values Dash hands the page layout; None when they are malformed."""
        run = segment(run_id)
        good_other, other_id = optional_name(other)
        good_layer, layer_name = optional_name(layer)
        f, i = index(filter_index, 0), index(image)
        if run is None or not (good_other and good_layer) or f is None:
            return None
        if image is not None and i is None:
            return None
        return cls(run, other_id, layer_name, f, i)

    def url(self) -> str:
        """The page's URL (each value only when it is not the default)."""
        query = {
            "with": self.other,
            "layer": self.layer,
            "filter": self.filter_index or None,
            "image": self.image,
        }
        return with_query(f"{run_path(self.run_id)}/compare", query)


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

        An absent filter or image is 0; an overlay is ``heat`` or ``rf``.
        """
        f, i = index(filter_index, 0), index(image, 0)
        run, name = segment(run_id), segment(layer)
        if run is None or name is None or f is None or i is None or overlay not in OVERLAYS:
            return None
        return cls(run, name, f, i, overlay)

    def url(self) -> str:
        """The page's URL (``overlay`` only when it is not the default, ``heat``)."""
        path = filter_path(self.run_id, self.layer, self.filter_index)
        overlay = None if self.overlay == "heat" else self.overlay
        return with_query(path, {"image": self.image, "overlay": overlay})

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
