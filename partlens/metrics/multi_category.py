"""Multi-category variants of the metrics (docs/method.md §3.6, §6.3): each filter is judged on
its target category c_hat = argmax_c mean_{I in I_c} sum_ij x_ij."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from partlens.metrics._checks import ArrayLike, as_array, check_same
from partlens.metrics.location_instability import LocationInstability, location_instability
from partlens.metrics.part_interpretability import (
    PartInterpretability,
    Region,
    part_interpretability,
)

_IMAGE_CHUNK = 64


@dataclass(frozen=True)
class MultiCategoryInstability:
    """Result of `multi_category_location_instability`.

    mean: mean_f min_c mean_{k in Part_c} D_fk over filters with a valid category.
    per_filter: [F], min_c mean_{k in Part_c} D_fk; NaN for excluded filters.
    per_filter_category: [F, C], mean_{k in Part_c} D_fk; NaN where no landmark of c is valid.
    best_category: [F], the minimising c (-1 for excluded filters).
    single: the underlying per-landmark result (per_filter_landmark, images_used).
    excluded: filters without any valid category.
    """

    mean: float
    per_filter: np.ndarray
    per_filter_category: np.ndarray
    best_category: np.ndarray
    single: LocationInstability
    excluded: int


@dataclass(frozen=True)
class MultiCategoryInterpretability:
    """Result of `multi_category_part_interpretability`.

    mean: mean_f P_f; per_filter: [F]; per_filter_part: [F, K] (each filter scored on the images
    of its target category); target_categories: [F], c_hat.
    """

    mean: float
    per_filter: np.ndarray
    per_filter_part: np.ndarray
    target_categories: np.ndarray


def _check_categories(
    image_categories: ArrayLike, n: int, name: str = "image_categories"
) -> np.ndarray:
    categories = as_array(name, image_categories, 1)
    if not np.issubdtype(categories.dtype, np.integer):
        raise ValueError(f"{name} must hold integer category indices, got {categories.dtype}")
    check_same(name, len(categories), "activations", n, "number of images N")
    return categories


def filter_target_categories(
    activations: ArrayLike, image_categories: ArrayLike, num_categories: int | None = None
) -> np.ndarray:
    """c_hat per filter: argmax_c mean over images of category c of sum_ij x_ij (int64 [F]).

    activations: [N, F, h, w]; image_categories: int [N]. Categories without images never win.
    """
    maps = as_array("activations", activations, 4)
    categories = _check_categories(image_categories, maps.shape[0])
    count = int(num_categories or categories.max() + 1)
    if categories.min() < 0 or categories.max() >= count:
        raise ValueError(
            f"image_categories must lie in [0, {count}), got {categories.min()}..{categories.max()}"
        )
    sums = np.zeros((count, maps.shape[1]))
    for start in range(0, len(maps), _IMAGE_CHUNK):
        chunk = np.asarray(maps[start : start + _IMAGE_CHUNK], dtype=np.float64).sum(axis=(2, 3))
        np.add.at(sums, categories[start : start + len(chunk)], chunk)
    images = np.bincount(categories, minlength=count)
    means = np.where(images[:, None] > 0, sums / np.maximum(images, 1)[:, None], -np.inf)
    return means.argmax(axis=0).astype(np.int64)


def multi_category_location_instability(
    positions: ArrayLike,
    scores: ArrayLike,
    landmarks: ArrayLike,
    image_size: Sequence[float],
    landmark_groups: Sequence[Sequence[int]],
    top_k: int = 100,
) -> MultiCategoryInstability:
    """mean_f min_c mean_{k in Part_c} D_fk (docs/method.md §6.3).

    landmark_groups[c] lists the landmark indices (columns of landmarks) of category c, Part_c.
    Other arguments as in `location_instability`.
    """
    single = location_instability(positions, scores, landmarks, image_size, top_k)
    d = single.per_filter_landmark
    if len(landmark_groups) == 0:
        raise ValueError("landmark_groups is empty: give each category's landmark indices")
    per_category = np.full((d.shape[0], len(landmark_groups)), np.nan)
    for c, group in enumerate(landmark_groups):
        indices = np.asarray(group, dtype=np.int64)
        if len(indices) == 0 or indices.min() < 0 or indices.max() >= d.shape[1]:
            raise ValueError(
                f"landmark_groups[{c}] = {list(group)} must be non-empty landmark indices "
                f"in [0, {d.shape[1]})"
            )
        block = d[:, indices]
        valid = np.isfinite(block).sum(axis=1)
        per_category[valid > 0, c] = np.nansum(block, axis=1)[valid > 0] / valid[valid > 0]
    kept = np.isfinite(per_category).any(axis=1)
    best = np.full(d.shape[0], -1, dtype=np.int64)
    best[kept] = np.where(np.isfinite(per_category), per_category, np.inf)[kept].argmin(axis=1)
    per_filter = np.full(d.shape[0], np.nan)
    per_filter[kept] = per_category[kept, best[kept]]
    return MultiCategoryInstability(
        mean=float(per_filter[kept].mean()) if kept.any() else float("nan"),
        per_filter=per_filter,
        per_filter_category=per_category,
        best_category=best,
        single=single,
        excluded=int((~kept).sum()),
    )


def multi_category_part_interpretability(
    activations: ArrayLike,
    part_masks: ArrayLike,
    unit_centers: ArrayLike,
    rf_radius: float,
    image_categories: ArrayLike,
    target_categories: ArrayLike | None = None,
    quantile: float = 0.005,
    iou_threshold: float = 0.2,
    region: Region = "rf-disk",
) -> MultiCategoryInterpretability:
    """Part interpretability with each filter evaluated on the images of its target category
    c_hat (thresholds T_f too): mean_f max_k P_fk.

    target_categories: int [F]; default `filter_target_categories` on these activations (pass
    the training-set assignment when there is one).
    """
    maps = as_array("activations", activations, 4)
    categories = _check_categories(image_categories, maps.shape[0])
    if target_categories is None:
        targets = filter_target_categories(maps, categories)
    else:
        targets = as_array("target_categories", target_categories, 1).astype(np.int64)
        check_same("target_categories", len(targets), "activations", maps.shape[1], "filters F")
    masks = as_array("part_masks", part_masks, 4, kind="bool")
    per_filter_part = np.full((maps.shape[1], masks.shape[1]), np.nan)
    for category in np.unique(targets):
        images = np.flatnonzero(categories == category)
        filters = np.flatnonzero(targets == category)
        if len(images) == 0:
            continue  # a filter whose category has no evaluation image cannot be scored
        result: PartInterpretability = part_interpretability(
            maps[images][:, filters],
            masks[images],
            unit_centers,
            rf_radius,
            quantile,
            iou_threshold,
            region,
        )
        per_filter_part[filters] = result.per_filter_part
    scored = np.isfinite(per_filter_part).any(axis=1)
    per_filter = np.full(maps.shape[1], np.nan)
    per_filter[scored] = np.nanmax(per_filter_part[scored], axis=1)
    return MultiCategoryInterpretability(
        mean=float(per_filter[scored].mean()) if scored.any() else float("nan"),
        per_filter=per_filter,
        per_filter_part=per_filter_part,
        target_categories=targets,
    )
