"""Every URL of the UI, built and parsed in this one package.

* View URLs (:mod:`.views`, :mod:`.probe_views`), the address bar of each page. A view's whole
  state is in its URL, so a copied address reproduces the exact view: :class:`RunsPage`
  ``/?sort=...&status=...``, :class:`RunPage` ``/runs/<run_id>?layer=...&sort=...``,
  :class:`FilterPage` ``/runs/<run_id>/layers/<layer>/filters/<f>?image=<i>``, :class:`ComparePage`
  ``/runs/<run_id>/compare?with=<other>``, :class:`ProbeUploadPage` ``/runs/<run_id>/probe``,
  :class:`ProbePage` ``/probes/<probe_id>`` and :class:`DatasetPage` ``/datasets/<name>``.
* Media URLs (:mod:`.media`), the images the browser loads through the UI's ``/media`` proxy.
* API paths (:mod:`.api`), relative to the API's base URL, that the pages call.

:func:`parse` (:mod:`.parse`) turns a view or run image URL back into its object
(``parse(x.url()) == x``). Path segments are percent-encoded.
"""

from __future__ import annotations

from frontend.urls._values import MEDIA_PREFIX
from frontend.urls.api import (
    API_ARCHITECTURES,
    API_CATALOG,
    API_DATASETS,
    API_FILTER_LOSSES,
    API_PRESETS,
    API_RUNS,
    API_WEIGHTS,
    api_dataset,
    api_features,
    api_filter,
    api_heatmap,
    api_history,
    api_layer,
    api_layer_filters,
    api_log,
    api_metrics,
    api_probe,
    api_probe_filter,
    api_probe_layer,
    api_probes,
    api_run,
    api_samples,
)
from frontend.urls.media import (
    OVERLAYS,
    SAMPLE_OVERLAYS,
    SHEET_SORTS,
    SPLITS,
    DatasetImage,
    HeatmapImage,
    HeatmapMeanImage,
    Overlay,
    OverlayImage,
    PanelImage,
    ProbeFilterImage,
    ProbeInput,
    ProbeSheetImage,
    SampleImage,
    SampleOverlay,
    SheetImage,
    Split,
)
from frontend.urls.parse import Route, parse
from frontend.urls.probe_views import (
    DatasetPage,
    ProbePage,
    ProbeUploadPage,
)
from frontend.urls.views import (
    RUN_KINDS,
    RUN_STATUSES,
    RUNS_SORTS,
    SORTS,
    ComparePage,
    FilterPage,
    RunPage,
    RunsPage,
    RunsSort,
    Sort,
)

__all__ = [
    "API_ARCHITECTURES",
    "API_CATALOG",
    "API_DATASETS",
    "API_FILTER_LOSSES",
    "API_PRESETS",
    "API_RUNS",
    "API_WEIGHTS",
    "MEDIA_PREFIX",
    "OVERLAYS",
    "RUNS_SORTS",
    "RUN_KINDS",
    "RUN_STATUSES",
    "SAMPLE_OVERLAYS",
    "SHEET_SORTS",
    "SORTS",
    "SPLITS",
    "ComparePage",
    "DatasetImage",
    "DatasetPage",
    "FilterPage",
    "HeatmapImage",
    "HeatmapMeanImage",
    "Overlay",
    "OverlayImage",
    "PanelImage",
    "ProbeFilterImage",
    "ProbeInput",
    "ProbePage",
    "ProbeSheetImage",
    "ProbeUploadPage",
    "Route",
    "RunPage",
    "RunsPage",
    "RunsSort",
    "SampleImage",
    "SampleOverlay",
    "SheetImage",
    "Sort",
    "Split",
    "api_dataset",
    "api_features",
    "api_filter",
    "api_heatmap",
    "api_history",
    "api_layer",
    "api_layer_filters",
    "api_log",
    "api_metrics",
    "api_probe",
    "api_probe_filter",
    "api_probe_layer",
    "api_probes",
    "api_run",
    "api_samples",
    "parse",
]
