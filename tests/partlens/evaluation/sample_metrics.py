"""Hand-made metrics of the current schema, for tests of the readers of metrics.json."""

from __future__ import annotations

import math
from typing import Any

from partlens.evaluation.schema import SCHEMA_VERSION, LayerMetrics, RunMetrics
from partlens.metrics import best_part_diversity

SIDE = 8  # units per side of the sample layer; unit (r, c) has its RF centre at (8c+4, 8r+4)


def layer_dict(
    instability: float | None = 0.1,
    interpretability: float | None = 0.5,
    *,
    histogram: dict[str, int] | None = None,
    target_category: list[str] | None = None,
    masks: bool = True,
) -> dict[str, Any]:
    """One layer of two filters, as metrics.json holds it; ``masks=False``: of a dataset
    without part masks (no part interpretability)."""
    centers = [[[8 * c + 4.0, 8 * r + 4.0] for c in range(SIDE)] for r in range(SIDE)]
    histogram = histogram if histogram is not None else {"head": 1, "torso": 1}
    diversity = best_part_diversity(histogram)
    layer: dict[str, Any] = {
        "geometry": {
            "unit_centers": centers,
            "rf_size": 38,
            "rf_jump": 8.0,
            "rf_radius": 6.0,
            "rf_radius_source": "effective",
            "thresholds": [0.5, 0.5],
        },
        "location_instability": {
            "mean": instability,
            "per_filter": [instability, None],
            "excluded": 1,
            "landmarks": ["head"],
            "random_reference": 0.14,
            "oracle_reference": 0.03,
        },
        "part_interpretability": {
            "mean": interpretability,
            "per_filter": [0.5, 0.1],
            "per_filter_part": [[0.5, 0.25], [None, 0.1]],
            "parts": ["head", "torso"],
            "best_part": ["head", "torso"],
            "best_part_histogram": histogram,
            "best_part_share": diversity.share if math.isfinite(diversity.share) else None,
            "best_part_entropy": diversity.entropy if math.isfinite(diversity.entropy) else None,
            "rf_radius": 6.0,
            "radius_sensitivity": [{"radius": 6.0, "mean": 0.3, "source": "effective x1"}],
            "oracle_reference": 0.9,
        },
    }
    if not masks:
        layer["part_interpretability"] = None
    if target_category is not None:
        layer["target_category"] = target_category
    return layer


def run_dict(
    *,
    run_id: str = "r",
    task: str = "single",
    interpretable: bool = True,
    category: str | None = "bird",
    accuracy: float | None = 0.9,
    layers: dict[str, dict[str, Any]] | None = None,
    top_layer: str = "conv_added",
    absent: str | None = None,
) -> dict[str, Any]:
    """A run's metrics.json content of the current schema; ``absent``: why its layers have no
    part interpretability (give layers of ``layer_dict(masks=False)`` with it)."""
    single = task == "single"
    categories = ["negative", category or "bird"] if single else ["bird", "cat"]
    metrics: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "run_id": run_id,
        "arch": "tiny",
        "interpretable": interpretable,
        "task": task,
        "categories": categories,
        "category": category if single else None,
        "num_images": 3,
        "image_size": 64,
        "evaluation": {
            "images": "positives of the category" if single else "all test images",
            "quantile": 0.005,
            "iou_threshold": 0.2,
            "top_k": 100,
            "rf_mass": 0.8,
        },
        "top_layer": top_layer,
        "layers": layers if layers is not None else {top_layer: layer_dict()},
        "heatmaps": {name: f"heatmaps/{name}.png" for name in categories[single:]},
        "heatmap_arrays": {name: f"heatmaps/{name}.npz" for name in categories[single:]},
        "annotation_arrays": "annotations.npz",
        "part_interpretability_absent": absent,
        "accuracy": accuracy,
    }
    if not single:
        metrics["per_category_accuracy"] = {"bird": 0.9, "cat": 0.8}
        metrics["multi_loss"] = "softmax"
    return metrics


def run_metrics(**fields: Any) -> RunMetrics:
    """`run_dict` as a validated RunMetrics."""
    return RunMetrics.model_validate(run_dict(**fields))


def layer_metrics(*args: Any, **fields: Any) -> LayerMetrics:
    """`layer_dict` as a validated LayerMetrics."""
    return LayerMetrics.model_validate(layer_dict(*args, **fields))
