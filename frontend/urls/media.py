"""Media URLs: the images the browser loads through the UI's ``/media`` proxy of the API.

Each class builds its URL with ``url()``; :func:`frontend.urls.parse` turns the run images'
URLs back into their objects.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal, TypeAlias

from frontend.urls._values import (
    MEDIA_PREFIX,
    dataset_path,
    filter_path,
    layer_path,
    probe_path,
    run_path,
    seg,
    with_query,
)

Overlay: TypeAlias = Literal["heat", "rf"]
OVERLAYS: tuple[Overlay, ...] = ("heat", "rf")
# The orders the contact sheet draws by itself; the others come from the filter list.
SheetSort: TypeAlias = Literal["filter", "peak", "mean"]
SHEET_SORTS: tuple[SheetSort, ...] = ("filter", "peak", "mean")
SampleOverlay: TypeAlias = Literal["none", "masks", "landmarks"]
SAMPLE_OVERLAYS: tuple[SampleOverlay, ...] = ("none", "masks", "landmarks")
Split: TypeAlias = Literal["train", "test"]
SPLITS: tuple[Split, ...] = ("train", "test")


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
        path = f"{filter_path(self.run_id, self.layer, self.filter_index)}/overlay.png"
        return with_query(MEDIA_PREFIX + path, {"image": self.image, "mode": self.mode})


@dataclass(frozen=True)
class DatasetImage:
    """One evaluation image of a run, as the network sees it."""

    run_id: str
    image: int

    def url(self) -> str:
        """The media URL of the image."""
        return f"{MEDIA_PREFIX}{run_path(self.run_id)}/images/{seg(self.image)}.png"


@dataclass(frozen=True)
class HeatmapImage:
    """A run's part heat map of one category (the paper's Fig. 6)."""

    run_id: str
    category: str

    def url(self) -> str:
        """The media URL of the image."""
        return f"{MEDIA_PREFIX}{run_path(self.run_id)}/heatmaps/{seg(self.category)}.png"


@dataclass(frozen=True)
class HeatmapMeanImage:
    """The average object image of a category, in the heat map's object-normalised frame."""

    run_id: str
    category: str

    def url(self) -> str:
        """The media URL of the image."""
        path = f"{run_path(self.run_id)}/heatmaps/{seg(self.category)}/mean.png"
        return MEDIA_PREFIX + path


@dataclass(frozen=True)
class SheetImage:
    """A page of a layer's filters as one contact sheet: each filter's top image, in ``sort``
    order from ``offset``, ``columns`` tiles of ``tile`` pixels per row (``sheet.json`` lists
    the tiles)."""

    run_id: str
    layer: str
    sort: SheetSort = "filter"
    desc: bool = False
    limit: int = 64
    columns: int = 8
    tile: int = 96
    offset: int = 0

    def params(self) -> dict[str, Any]:
        """The query of the sheet, shared by ``sheet.png`` and ``sheet.json``."""
        query: dict[str, Any] = {"limit": self.limit, "columns": self.columns, "tile": self.tile}
        # Only a descending sheet says so: the client would send an absent flag as empty.
        query |= {"sort": self.sort} | ({"desc": 1} if self.desc else {})
        return query | ({"offset": self.offset} if self.offset else {})

    def url(self) -> str:
        """The media URL of the image."""
        path = f"{layer_path(self.run_id, self.layer)}/sheet.png"
        return with_query(MEDIA_PREFIX + path, self.params())


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
        path = f"{filter_path(self.run_id, self.layer, self.filter_index)}/panel.png"
        return with_query(MEDIA_PREFIX + path, {"image": self.image, "size": self.size})


@dataclass(frozen=True)
class SampleImage:
    """One sample of a dataset split, with its part masks or landmarks drawn (or neither)."""

    dataset: str
    index: int
    split: Split = "train"
    overlay: SampleOverlay = "masks"

    def url(self) -> str:
        """The media URL of the image."""
        path = f"{dataset_path(self.dataset)}/samples/{seg(self.index)}.png"
        return with_query(MEDIA_PREFIX + path, {"split": self.split, "overlay": self.overlay})


@dataclass(frozen=True)
class ProbeInput:
    """The uploaded image of a probe, as the model saw it (resized and cropped)."""

    probe_id: str

    def url(self) -> str:
        """The media URL of the image."""
        return f"{MEDIA_PREFIX}{probe_path(self.probe_id)}/image.png"


@dataclass(frozen=True)
class ProbeSheetImage:
    """Every filter of a probe's layer on the probe image, as one contact sheet."""

    probe_id: str
    layer: str
    limit: int = 128
    offset: int = 0
    columns: int = 16
    tile: int = 64

    def params(self) -> dict[str, Any]:
        """The query of the sheet, shared by ``sheet.png`` and ``sheet.json``."""
        return {
            "offset": self.offset,
            "limit": self.limit,
            "columns": self.columns,
            "tile": self.tile,
        }

    def url(self) -> str:
        """The media URL of the image."""
        path = f"{probe_path(self.probe_id)}/layers/{seg(self.layer)}/sheet.png"
        return with_query(MEDIA_PREFIX + path, self.params())


@dataclass(frozen=True)
class ProbeFilterImage:
    """One filter on a probe image: ``overlay.png`` (``mode`` heat or rf) or ``panel.png``."""

    probe_id: str
    layer: str
    filter_index: int
    what: Literal["overlay.png", "panel.png"] = "overlay.png"
    mode: Overlay | None = None

    def url(self) -> str:
        """The media URL of the image."""
        path = (
            f"{probe_path(self.probe_id)}/layers/{seg(self.layer)}"
            f"/filters/{seg(self.filter_index)}/{self.what}"
        )
        return with_query(MEDIA_PREFIX + path, {"mode": self.mode})
