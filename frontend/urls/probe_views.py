"""View URLs of the probe and dataset pages (see :mod:`frontend.urls.views` for the idiom)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from frontend.urls._values import (
    dataset_path,
    index,
    optional_name,
    probe_path,
    run_path,
    segment,
    with_query,
)
from frontend.urls.media import (
    OVERLAYS,
    SAMPLE_OVERLAYS,
    SPLITS,
    Overlay,
    SampleOverlay,
    Split,
)


@dataclass(frozen=True)
class ProbeUploadPage:
    """``/runs/<run_id>/probe``: upload an image to see every filter of the run respond."""

    TEMPLATE: ClassVar[str] = "/runs/<run_id>/probe"

    run_id: str

    @classmethod
    def from_dash(cls, run_id: str | None) -> ProbeUploadPage | None:
        """The view of the path value Dash hands the page layout (encoded); None without one."""
        run = segment(run_id)
        return None if run is None else cls(run)

    def url(self) -> str:
        """The page's URL."""
        return f"{run_path(self.run_id)}/probe"


@dataclass(frozen=True)
class ProbePage:
    """``/probes/<probe_id>[?twin=<probe>&layer=<l>&filter=<f>&overlay=rf]``: an uploaded
    image through a run's model (and through its twin's, ``twin``), every filter of ``layer``
    (None: the top) as a grid, and filter ``filter_index`` in detail."""

    TEMPLATE: ClassVar[str] = "/probes/<probe_id>"

    probe_id: str
    twin: str | None = None
    layer: str | None = None
    filter_index: int = 0
    overlay: Overlay = "heat"

    @classmethod
    def from_dash(
        cls,
        probe_id: str | None,
        twin: Any = None,
        layer: Any = None,
        filter_index: Any = None,
        overlay: Any = "heat",
    ) -> ProbePage | None:
        """The view of the values Dash hands the page layout; None when they are malformed."""
        probe = segment(probe_id)
        good_twin, twin_id = optional_name(twin)
        good_layer, layer_name = optional_name(layer)
        f = index(filter_index, 0)
        if probe is None or not (good_twin and good_layer) or f is None:
            return None
        if overlay not in OVERLAYS:
            return None
        return cls(probe, twin_id, layer_name, f, overlay)

    def url(self) -> str:
        """The page's URL (each value only when it is not the default)."""
        query = {
            "twin": self.twin,
            "layer": self.layer,
            "filter": self.filter_index or None,
            "overlay": None if self.overlay == "heat" else self.overlay,
        }
        return with_query(probe_path(self.probe_id), query)


@dataclass(frozen=True)
class DatasetPage:
    """``/datasets/<name>[?split=test&overlay=landmarks&offset=<n>]``: a page of a dataset
    split's samples with their part masks or landmarks drawn."""

    TEMPLATE: ClassVar[str] = "/datasets/<name>"

    name: str
    split: Split = "train"
    overlay: SampleOverlay = "masks"
    offset: int = 0

    @classmethod
    def from_dash(
        cls, name: str | None, split: Any = "train", overlay: Any = "masks", offset: Any = None
    ) -> DatasetPage | None:
        """The view of the values Dash hands the page layout; None when they are malformed."""
        dataset, start = segment(name), index(offset, 0)
        if dataset is None or start is None or split not in SPLITS:
            return None
        if overlay not in SAMPLE_OVERLAYS:
            return None
        return cls(dataset, split, overlay, start)

    def url(self) -> str:
        """The page's URL (each value only when it is not the default)."""
        query = {
            "split": None if self.split == "train" else self.split,
            "overlay": None if self.overlay == "masks" else self.overlay,
            "offset": self.offset or None,
        }
        return with_query(dataset_path(self.name), query)
