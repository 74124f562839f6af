"""Reference values that give a location-instability figure its scale (docs/method.md §6.2;
why they are needed: §8): a filter at random unit positions (no part at all) and a filter
locked to one landmark (the floor set by pose variation). Report both next to every
instability figure."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from partlens.metrics._checks import ArrayLike, as_array, check_image_size, check_positive_int
from partlens.metrics.location_instability import LocationInstability, location_instability
from partlens.metrics.multi_category import (
    MultiCategoryInstability,
    multi_category_location_instability,
)


def _grid(unit_centers: ArrayLike | None) -> np.ndarray | None:
    if unit_centers is None:
        return None
    centers = as_array("unit_centers", unit_centers, 3).astype(np.float64)
    if centers.shape[2] != 2:
        raise ValueError(f"unit_centers must have shape [h, w, 2], got {tuple(centers.shape)}")
    return centers.reshape(-1, 2)


def _evaluate(
    positions: np.ndarray,
    scores: np.ndarray,
    landmarks: np.ndarray,
    image_size: Sequence[float],
    top_k: int,
    landmark_groups: Sequence[Sequence[int]] | None,
) -> LocationInstability | MultiCategoryInstability:
    if landmark_groups is None:
        return location_instability(positions, scores, landmarks, image_size, top_k)
    return multi_category_location_instability(
        positions, scores, landmarks, image_size, landmark_groups, top_k
    )


def random_position_reference(
    landmarks: ArrayLike,
    image_size: Sequence[float],
    unit_centers: ArrayLike | None = None,
    *,
    num_filters: int = 256,
    top_k: int = 100,
    landmark_groups: Sequence[Sequence[int]] | None = None,
    seed: int = 0,
) -> LocationInstability | MultiCategoryInstability:
    """Instability of num_filters filters whose inferred part is a uniformly random unit on
    every image (with random scores, so top_k picks random images).

    unit_centers: [h, w, 2] (x, y) grid to draw from; None draws uniformly over the image.
    landmark_groups: give it for the multi-category figure (min over categories).
    """
    marks = as_array("landmarks", landmarks, 3).astype(np.float64)
    width, height = check_image_size(image_size)
    num_filters = check_positive_int("num_filters", num_filters)
    rng = np.random.default_rng(seed)
    grid = _grid(unit_centers)
    shape = (marks.shape[0], num_filters)
    if grid is None:
        positions = rng.uniform(0.0, 1.0, size=(*shape, 2)) * [width, height]
    else:
        positions = grid[rng.integers(0, len(grid), size=shape)]
    scores = rng.uniform(size=shape)
    return _evaluate(positions, scores, marks, image_size, top_k, landmark_groups)


def part_locked_oracle_reference(
    landmarks: ArrayLike,
    image_size: Sequence[float],
    unit_centers: ArrayLike | None = None,
    *,
    top_k: int = 100,
    landmark_groups: Sequence[Sequence[int]] | None = None,
) -> LocationInstability | MultiCategoryInstability:
    """Instability of K oracle filters, filter j firing exactly on landmark j (snapped to the
    nearest unit centre when unit_centers is given) and absent on images without landmark j.

    D_jk then measures only how landmark k moves relative to landmark j across poses, plus the
    grid's snapping error: the best a part detector on this grid can score.
    """
    marks = as_array("landmarks", landmarks, 3).astype(np.float64)
    check_image_size(image_size)
    grid = _grid(unit_centers)
    positions = marks.copy()  # [N, K, 2]: filter j sits on landmark j, NaN where absent
    if grid is not None:
        present = np.isfinite(positions).all(axis=2)
        points = positions[present]
        nearest = ((points[:, None, :] - grid[None, :, :]) ** 2).sum(axis=2).argmin(axis=1)
        positions[present] = grid[nearest]
    scores = np.where(np.isfinite(positions).all(axis=2), 1.0, np.nan)
    return _evaluate(positions, scores, marks, image_size, top_k, landmark_groups)
