"""Part interpretability of one layer for ``metrics.json`` (paper Sec. 5.2.1): mean_f P_f at the
measured RF radius, P_fk, the best part of each filter, its sensitivity to the radius and the
part-locked oracle that gives the figure its scale; plus the thresholds T_f the RF region S_f
uses, which location-only (mask-less) evaluations still record."""

from __future__ import annotations

import math

import numpy as np

from partlens.evaluation.annotations import EvalAnnotations, part_oracle_maps
from partlens.evaluation.schema import PartInterpretabilityMetrics, RadiusSensitivityPoint
from partlens.metrics import (
    PartInterpretability,
    activation_thresholds,
    best_part_diversity,
    best_part_histogram,
    multi_category_part_interpretability,
    part_interpretability,
)

QUANTILE = 0.005  # p(x_ij > T_f), as Bau et al. and the paper
IOU_THRESHOLD = 0.2
RADIUS_FACTORS = (0.5, 0.75, 1.0, 1.5, 2.0)


def layer_part_interpretability(
    maps: np.ndarray,
    centers: np.ndarray,
    radius: float,
    theoretical_radius: float,
    annotations: EvalAnnotations,
    targets: np.ndarray | None,
    thresholds: np.ndarray,
) -> PartInterpretabilityMetrics:
    """mean_f P_f of maps [N, F, h, w] at the effective ``radius``, with P_fk, best parts,
    radius sensitivity and the oracle; ``targets`` c_hat per filter (multi-category) or None.

    Needs part masks (``annotations.has_masks``); ``thresholds`` are the T_f of
    :func:`filter_thresholds`, kept with the best parts.
    """
    if not annotations.has_masks:
        raise ValueError("part interpretability needs part masks; the annotations have none")
    masks = annotations.part_masks

    def score(activations: np.ndarray, rf_radius: float, filter_targets: np.ndarray | None):
        if filter_targets is None:
            return part_interpretability(
                activations, masks, centers, rf_radius, QUANTILE, IOU_THRESHOLD
            )
        return multi_category_part_interpretability(
            activations,
            masks,
            centers,
            rf_radius,
            annotations.categories,
            filter_targets,
            QUANTILE,
            IOU_THRESHOLD,
        )

    result = score(maps, radius, targets)
    scored = np.isfinite(result.per_filter_part).any(axis=1)
    best = np.full(len(result.per_filter), -1, dtype=np.int64)
    best[scored] = np.nanargmax(result.per_filter_part[scored], axis=1)
    summary = PartInterpretability(
        result.mean, result.per_filter, result.per_filter_part, thresholds, best
    )
    radii = [(radius * factor, f"effective x{factor:g}") for factor in RADIUS_FACTORS]
    radii.append((theoretical_radius, "theoretical"))
    sensitivity = [
        RadiusSensitivityPoint(
            radius=r, mean=json_float(score(maps, r, targets).mean), source=source
        )
        for r, source in radii
    ]
    oracle_maps, oracle_targets = part_oracle_maps(annotations, centers)
    oracle = score(oracle_maps, radius, oracle_targets)
    names = annotations.part_names
    histogram = best_part_histogram(summary, names)
    diversity = best_part_diversity(histogram)
    return PartInterpretabilityMetrics(
        mean=json_float(result.mean),
        per_filter=json_list(result.per_filter),
        per_filter_part=[json_list(row) for row in result.per_filter_part],
        parts=list(names),
        best_part=[
            names[k] if k >= 0 and p > 0 else None
            for k, p in zip(best, result.per_filter, strict=True)
        ],
        best_part_histogram=histogram,
        best_part_share=json_float(diversity.share),
        best_part_entropy=json_float(diversity.entropy),
        rf_radius=radius,
        radius_sensitivity=sensitivity,
        oracle_reference=json_float(oracle.mean),
    )


def filter_thresholds(
    maps: np.ndarray, categories: np.ndarray, targets: np.ndarray | None
) -> np.ndarray:
    """T_f over the images each filter is evaluated on (all, or those of its c_hat)."""
    if targets is None:
        return activation_thresholds(maps, QUANTILE)
    thresholds = np.full(maps.shape[1], np.nan)
    for category in np.unique(targets):
        images = np.flatnonzero(categories == category)
        filters = np.flatnonzero(targets == category)
        if len(images):
            thresholds[filters] = activation_thresholds(maps[images][:, filters], QUANTILE)
    return thresholds


def json_float(value: float) -> float | None:
    """A finite float, or None (JSON has no NaN)."""
    value = float(value)
    return value if math.isfinite(value) else None


def json_list(values: np.ndarray) -> list[float | None]:
    """``values`` flattened to finite floats or None."""
    return [json_float(v) for v in np.asarray(values, dtype=np.float64).ravel()]
