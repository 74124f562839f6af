"""API paths, relative to the API's base URL, that the pages call (the views mirror them)."""

from __future__ import annotations

from frontend.urls._values import dataset_path, filter_path, layer_path, probe_path, run_path, seg

API_RUNS = "/runs"
API_ARCHITECTURES = "/architectures"
API_CATALOG = "/catalog"
API_PRESETS = "/presets"
API_DATASETS = "/datasets"
API_WEIGHTS = "/weights"
API_FILTER_LOSSES = "/filter-losses"


def api_run(run_id: str) -> str:
    """API path of one run."""
    return run_path(run_id)


def api_features(run_id: str) -> str:
    """API path of a run's feature summary (layers, filter counts, number of images)."""
    return f"{run_path(run_id)}/features"


def api_metrics(run_id: str) -> str:
    """API path of a run's evaluation metrics."""
    return f"{run_path(run_id)}/metrics"


def api_layer_filters(run_id: str, layer: str) -> str:
    """API path of the list of a layer's filters (each with its best image and metrics)."""
    return f"{layer_path(run_id, layer)}/filters"


def api_filter(run_id: str, layer: str, filter_index: int, what: str) -> str:
    """API path of one filter's ``what`` (``activation``, ``top``, ``overlay.png``)."""
    return f"{filter_path(run_id, layer, filter_index)}/{what}"


def api_history(run_id: str) -> str:
    """API path of a run's training curves."""
    return f"{run_path(run_id)}/history"


def api_log(run_id: str) -> str:
    """API path of the tail of a run's log."""
    return f"{run_path(run_id)}/log"


def api_layer(run_id: str, layer: str, what: str) -> str:
    """API path of one layer's ``what`` (``sheet.png``, ``sheet.json``)."""
    return f"{layer_path(run_id, layer)}/{what}"


def api_heatmap(run_id: str, category: str) -> str:
    """API path of a category's Fig. 6 heat map as numbers (``grid`` x ``grid`` ``heat``)."""
    return f"{run_path(run_id)}/heatmaps/{seg(category)}.json"


def api_dataset(name: str) -> str:
    """API path of one dataset (categories, parts, landmarks, counts)."""
    return dataset_path(name)


def api_samples(name: str) -> str:
    """API path of a page of a dataset split's samples."""
    return f"{dataset_path(name)}/samples"


def api_probes(run_id: str) -> str:
    """API path uploading an image to probe a run's model (``POST``, multipart ``image``)."""
    return f"{run_path(run_id)}/probes"


def api_probe(probe_id: str) -> str:
    """API path of one probe: its run, image size and layers."""
    return probe_path(probe_id)


def api_probe_layer(probe_id: str, layer: str, what: str) -> str:
    """API path of a probe layer's ``what`` (``filters``, ``sheet.json``)."""
    return f"{probe_path(probe_id)}/layers/{seg(layer)}/{what}"


def api_probe_filter(probe_id: str, layer: str, filter_index: int, what: str) -> str:
    """API path of one filter's ``what`` on a probe (``activation``, ``overlay.png``)."""
    return f"{probe_path(probe_id)}/layers/{seg(layer)}/filters/{seg(filter_index)}/{what}"
