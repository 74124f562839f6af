"""Location instability (paper Sec. 5.2, after Zhang et al. AAAI 2018): how far a filter's inferred
part drifts relative to annotated landmarks, D_fk = std_I ||p_k - p(mu_hat)|| / sqrt(w^2 + h^2)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from partlens.metrics._checks import (
    ArrayLike,
    as_array,
    check_image_size,
    check_positive_int,
    check_same,
)

# Feature maps are read this many images at a time so float16 memmaps never load whole.
_IMAGE_CHUNK = 64


@dataclass(frozen=True)
class LocationInstability:
    """Result of `location_instability`.

    mean: mean_f mean_k D_fk over the filters that have at least one valid landmark.
    per_filter: [F], mean_k D_fk; NaN for excluded filters.
    per_filter_landmark: [F, K], D_fk; NaN where fewer than 2 images were usable.
    images_used: [F, K], how many images entered each D_fk (at most top_k).
    excluded: number of filters with no valid landmark.
    """

    mean: float
    per_filter: np.ndarray
    per_filter_landmark: np.ndarray
    images_used: np.ndarray
    excluded: int


def inferred_part_positions(
    activations: ArrayLike, unit_centers: ArrayLike
) -> tuple[np.ndarray, np.ndarray]:
    """Each filter's inferred part on each image: p(mu_hat), the RF centre of its argmax unit.

    activations: [N, F, h, w]; unit_centers: [h, w, 2] (x, y) in pixels. Returns positions
    [N, F, 2] (x, y) and scores [N, F] (the activation at mu_hat), both float64.
    """
    maps = as_array("activations", activations, 4)
    centers = as_array("unit_centers", unit_centers, 3).astype(np.float64)
    n, f, h, w = maps.shape
    if centers.shape != (h, w, 2):
        raise ValueError(
            f"unit_centers must have shape (h, w, 2) = {(h, w, 2)} to match activations "
            f"{tuple(maps.shape)}, got {tuple(centers.shape)}"
        )
    flat_centers = centers.reshape(h * w, 2)
    positions = np.empty((n, f, 2), dtype=np.float64)
    scores = np.empty((n, f), dtype=np.float64)
    for start in range(0, n, _IMAGE_CHUNK):
        chunk = np.asarray(maps[start : start + _IMAGE_CHUNK], dtype=np.float32).reshape(
            -1, f, h * w
        )
        best = chunk.argmax(axis=2)
        positions[start : start + len(chunk)] = flat_centers[best]
        scores[start : start + len(chunk)] = np.take_along_axis(chunk, best[..., None], 2)[..., 0]
    return positions, scores


def location_instability(
    positions: ArrayLike,
    scores: ArrayLike,
    landmarks: ArrayLike,
    image_size: Sequence[float],
    top_k: int = 100,
) -> LocationInstability:
    """Location instability mean_f mean_k D_fk (paper Sec. 5.2).

    positions: [N, F, 2] (x, y) pixels of p(mu_hat); scores: [N, F] the activation at mu_hat;
    landmarks: [N, K, 2] (x, y), NaN where absent; image_size: (w, h). For each filter f and
    landmark k, the top_k images by score among those that have k give distances
    d = ||p_k - p(mu_hat)|| / sqrt(w^2 + h^2), and D_fk is their standard deviation (N-1
    denominator, needs >= 2 images). A NaN position or score marks an image where the filter has
    no inferred part; such images are skipped for that filter.
    """
    pos = as_array("positions", positions, 3).astype(np.float64)
    score = as_array("scores", scores, 2).astype(np.float64)
    marks = as_array("landmarks", landmarks, 3).astype(np.float64)
    top_k = check_positive_int("top_k", top_k)
    width, height = check_image_size(image_size)
    if pos.shape[2] != 2:
        raise ValueError(f"positions must have shape [N, F, 2], got {tuple(pos.shape)}")
    if marks.shape[2] != 2:
        raise ValueError(f"landmarks must have shape [N, K, 2], got {tuple(marks.shape)}")
    if score.shape != pos.shape[:2]:
        raise ValueError(
            f"scores must have shape [N, F] = {tuple(pos.shape[:2])} to match positions, "
            f"got {tuple(score.shape)}"
        )
    check_same("landmarks", marks.shape[0], "positions", pos.shape[0], "number of images N")

    num_filters, num_landmarks = pos.shape[1], marks.shape[1]
    diagonal = float(np.hypot(width, height))
    usable = np.isfinite(pos).all(axis=2) & np.isfinite(score)
    ranking_score = np.where(usable, score, -np.inf)
    per_filter_landmark = np.full((num_filters, num_landmarks), np.nan)
    images_used = np.zeros((num_filters, num_landmarks), dtype=np.int64)
    for k in range(num_landmarks):
        has_k = np.flatnonzero(np.isfinite(marks[:, k]).all(axis=1))
        if len(has_k) == 0:
            continue
        # Stable sort: among equal scores the earlier image wins, so results are reproducible.
        order = np.argsort(-ranking_score[has_k], axis=0, kind="stable")[:top_k]  # [T, F]
        chosen_usable = np.take_along_axis(usable[has_k], order, axis=0)
        chosen_pos = np.take_along_axis(pos[has_k], order[..., None], axis=0)  # [T, F, 2]
        landmark_pos = marks[has_k, k][order]  # [T, F, 2]
        distance = np.hypot(*np.moveaxis(chosen_pos - landmark_pos, -1, 0)) / diagonal
        distance = np.where(chosen_usable, distance, 0.0)
        count = chosen_usable.sum(axis=0)
        mean = distance.sum(axis=0) / np.maximum(count, 1)
        squared = np.where(chosen_usable, (distance - mean) ** 2, 0.0).sum(axis=0)
        enough = count >= 2
        per_filter_landmark[enough, k] = np.sqrt(squared[enough] / (count[enough] - 1))
        images_used[:, k] = count
    return _summarise(per_filter_landmark, images_used)


def _summarise(per_filter_landmark: np.ndarray, images_used: np.ndarray) -> LocationInstability:
    """Average D_fk over each filter's valid landmarks, then over the non-excluded filters."""
    valid = np.isfinite(per_filter_landmark)
    valid_count = valid.sum(axis=1)
    per_filter = np.full(per_filter_landmark.shape[0], np.nan)
    kept = valid_count > 0
    per_filter[kept] = (
        np.where(valid, per_filter_landmark, 0.0).sum(axis=1)[kept] / valid_count[kept]
    )
    mean = float(per_filter[kept].mean()) if kept.any() else float("nan")
    return LocationInstability(
        mean=mean,
        per_filter=per_filter,
        per_filter_landmark=per_filter_landmark,
        images_used=images_used,
        excluded=int((~kept).sum()),
    )
