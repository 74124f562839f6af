"""Part interpretability (paper Sec. 5.2, after Network Dissection): how often a filter's
high-activation region on an image overlaps one semantic part with IoU above a threshold."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

import numpy as np
import torch
import torch.nn.functional as F

from partlens.metrics._checks import ArrayLike, as_array, check_same

Region = Literal["rf-disk", "bilinear"]
# Filters whose quantile is computed together; bounds memory to chunk * N * h * w floats.
_FILTER_CHUNK = 32
# Filters whose regions are drawn at image resolution at once (bounds temporaries to ~13 MB).
_UNION_CHUNK = 64
NO_PART = "none"  # the best-part histogram's key for filters that match no part


@dataclass(frozen=True)
class PartInterpretability:
    """Result of `part_interpretability`.

    mean: mean_f P_f over filters with at least one evaluable part.
    per_filter: [F], P_f = max_k P_fk; NaN when no image contains any part.
    per_filter_part: [F, K], P_fk = share of images containing part k with IoU > threshold;
        NaN for parts that no image contains.
    thresholds: [F], T_f, the (1 - quantile) quantile of filter f's activations.
    best_part: [F], argmax_k P_fk (-1 where P_f is NaN).
    """

    mean: float
    per_filter: np.ndarray
    per_filter_part: np.ndarray
    thresholds: np.ndarray
    best_part: np.ndarray


def activation_thresholds(activations: ArrayLike, quantile: float = 0.005) -> np.ndarray:
    """T_f per filter: the (1 - quantile) quantile of all activations of f over images and units,
    so that p(x_ij > T_f) = quantile (linear interpolation between order statistics)."""
    maps = as_array("activations", activations, 4)
    if not 0.0 < quantile < 1.0:
        raise ValueError(f"quantile must be in (0, 1), got {quantile!r}")
    num_filters = maps.shape[1]
    thresholds = np.empty(num_filters, dtype=np.float64)
    for start in range(0, num_filters, _FILTER_CHUNK):
        chunk = np.asarray(maps[:, start : start + _FILTER_CHUNK], dtype=np.float32)
        values = np.moveaxis(chunk, 1, 0).reshape(chunk.shape[1], -1)
        if not np.isfinite(values).all():
            raise ValueError("activations contain NaN or infinite values")
        thresholds[start : start + len(values)] = np.quantile(values, 1.0 - quantile, axis=1)
    return thresholds


def rf_disks(unit_centers: ArrayLike, rf_radius: float, mask_size: tuple[int, int]) -> torch.Tensor:
    """Disk of radius rf_radius around every unit's RF centre: bool [h * w, H * W].

    Pixel (row i, column j) has its centre at (j + 0.5, i + 0.5); it belongs to a disk when that
    centre lies within rf_radius of the unit centre.
    """
    centers = torch.as_tensor(as_array("unit_centers", unit_centers, 3), dtype=torch.float32)
    if centers.shape[2] != 2:
        raise ValueError(f"unit_centers must have shape [h, w, 2], got {tuple(centers.shape)}")
    if not rf_radius > 0:
        raise ValueError(f"rf_radius must be positive, got {rf_radius!r}")
    height, width = mask_size
    ys = torch.arange(height, dtype=torch.float32) + 0.5
    xs = torch.arange(width, dtype=torch.float32) + 0.5
    flat = centers.reshape(-1, 2)
    dx2 = (xs[None, :] - flat[:, :1]) ** 2  # [U, W]
    dy2 = (ys[None, :] - flat[:, 1:]) ** 2  # [U, H]
    inside = dy2[:, :, None] + dx2[:, None, :] <= float(rf_radius) ** 2
    return inside.reshape(len(flat), height * width)


def part_interpretability(
    activations: ArrayLike,
    part_masks: ArrayLike,
    unit_centers: ArrayLike,
    rf_radius: float,
    quantile: float = 0.005,
    iou_threshold: float = 0.2,
    region: Region = "rf-disk",
) -> PartInterpretability:
    """Part interpretability mean_f P_f with P_f = max_k P_fk (paper Sec. 5.2).

    activations: [N, F, h, w] after ReLU (and mask); part_masks: bool [N, K, H, W], all False where
    part k is absent; unit_centers: [h, w, 2] (x, y) RF centres in pixels of the mask frame.
    region "rf-disk" (the paper): the union of disks of radius rf_radius around the units above
    T_f. region "bilinear" (Network Dissection): the map upsampled bilinearly to H x W and
    thresholded at T_f (unit_centers and rf_radius unused). IoU of that region with each present
    part; P_fk = share of the images containing k where IoU > iou_threshold.
    """
    maps = as_array("activations", activations, 4)
    masks = as_array("part_masks", part_masks, 4, kind="bool")
    centers = as_array("unit_centers", unit_centers, 3)
    n, num_filters, h, w = maps.shape
    check_same("part_masks", masks.shape[0], "activations", n, "number of images N")
    if centers.shape != (h, w, 2):
        raise ValueError(
            f"unit_centers must have shape (h, w, 2) = {(h, w, 2)} to match activations "
            f"{tuple(maps.shape)}, got {tuple(centers.shape)}"
        )
    if region not in ("rf-disk", "bilinear"):
        raise ValueError(f"region must be 'rf-disk' or 'bilinear', got {region!r}")
    if not 0.0 <= iou_threshold < 1.0:
        raise ValueError(f"iou_threshold must be in [0, 1), got {iou_threshold!r}")
    thresholds = activation_thresholds(maps, quantile)
    mask_size = (masks.shape[2], masks.shape[3])
    packed_disks = None
    if region == "rf-disk":
        packed_disks = np.packbits(rf_disks(centers, rf_radius, mask_size).numpy(), axis=1)
    num_parts = masks.shape[1]
    hits = np.zeros((num_filters, num_parts), dtype=np.int64)
    present_count = np.zeros(num_parts, dtype=np.int64)
    for index in range(n):
        image_masks = np.asarray(masks[index]).reshape(num_parts, -1)
        part_area = np.count_nonzero(image_masks, axis=1)
        present = part_area > 0
        if not present.any():
            continue
        present_count += present
        # A row of ones after the parts makes the same overlap also return each region's area.
        targets = np.concatenate([image_masks, np.ones_like(image_masks[:1])])  # bool [K + 1, P]
        packed_targets = np.packbits(targets, axis=1)
        image_maps = np.asarray(maps[index], dtype=np.float32).reshape(num_filters, -1)
        if packed_disks is not None:
            filters, overlaps = _disk_overlaps(image_maps, thresholds, packed_disks, packed_targets)
        else:
            filters, overlaps = _bilinear_overlaps(
                image_maps, (h, w), mask_size, thresholds, packed_targets
            )
        if len(filters) == 0:
            continue
        intersection, region_area = overlaps[:, :-1], overlaps[:, -1:]
        union = region_area + part_area[None, :] - intersection
        iou = intersection / np.maximum(union, 1.0)
        hits[filters] += (iou > iou_threshold) & present[None, :]
    return _summarise(hits, present_count, thresholds)


def _disk_overlaps(
    image_maps: np.ndarray,
    thresholds: np.ndarray,
    packed_disks: np.ndarray,
    packed_targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Overlap [R, K + 1] of each firing filter's union of unit disks with the targets.

    image_maps: [F, U]. Disks and targets are bit-packed along the pixels ([U, P/8] and
    [K + 1, P/8] uint8), so a union is an OR of a few rows and an overlap a popcount: exact, and
    ~32x less memory traffic than float masks. Most filters have a single unit above T_f (always
    so after the mask); their overlaps come from a per-unit table.
    """
    above = image_maps > thresholds[:, None]  # [F, U]
    units_above = above.sum(axis=1)
    filters = np.flatnonzero(units_above)
    overlaps = np.empty((len(filters), len(packed_targets)), dtype=np.float64)
    single = units_above[filters] == 1
    if single.any():
        unit_table = _popcount_overlap(packed_disks, packed_targets)  # [U, K + 1]
        overlaps[single] = unit_table[above[filters[single]].argmax(axis=1)]
    several = np.flatnonzero(~single)
    for start in range(0, len(several), _UNION_CHUNK):
        rows = several[start : start + _UNION_CHUNK]
        row_ids, unit_ids = np.nonzero(above[filters[rows]])  # grouped by row, row-major
        group_starts = np.flatnonzero(np.r_[True, row_ids[1:] != row_ids[:-1]])
        unions = np.bitwise_or.reduceat(packed_disks[unit_ids], group_starts, axis=0)
        overlaps[rows] = _popcount_overlap(unions, packed_targets)
    return filters, overlaps


def _popcount_overlap(packed_regions: np.ndarray, packed_targets: np.ndarray) -> np.ndarray:
    """|region & target| for bit-packed rows: [R, P/8] x [T, P/8] -> float64 [R, T]."""
    both = packed_regions[:, None, :] & packed_targets[None, :, :]
    return np.bitwise_count(both).sum(axis=2, dtype=np.int64).astype(np.float64)


def _bilinear_overlaps(
    image_maps: np.ndarray,
    map_shape: tuple[int, int],
    mask_size: tuple[int, int],
    thresholds: np.ndarray,
    packed_targets: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Overlap [R, K + 1] of Network Dissection's region (map upsampled bilinearly, thresholded
    at T_f) with the bit-packed targets [K + 1, P/8]; bilinear values never exceed the map's
    maximum, so filters whose map stays at or below T_f are skipped."""
    filters = np.flatnonzero(image_maps.max(axis=1) > thresholds)
    overlaps = np.empty((len(filters), len(packed_targets)), dtype=np.float64)
    for start in range(0, len(filters), _UNION_CHUNK):
        rows = filters[start : start + _UNION_CHUNK]
        chunk = torch.from_numpy(image_maps[rows].reshape(1, len(rows), *map_shape))
        upsampled = F.interpolate(chunk, size=mask_size, mode="bilinear", align_corners=False)
        regions = upsampled[0].flatten(1).numpy() > thresholds[rows, None]
        overlaps[start : start + len(rows)] = _popcount_overlap(
            np.packbits(regions, axis=1), packed_targets
        )
    return filters, overlaps


def _summarise(
    hits: np.ndarray, present_count: np.ndarray, thresholds: np.ndarray
) -> PartInterpretability:
    """P_fk = hits / images containing k; P_f = max over evaluable parts; mean over filters."""
    evaluable = present_count > 0
    per_filter_part = np.full(hits.shape, np.nan)
    per_filter_part[:, evaluable] = hits[:, evaluable] / present_count[evaluable]
    best_part = np.full(len(hits), -1, dtype=np.int64)
    per_filter = np.full(len(hits), np.nan)
    if evaluable.any():
        scored = np.where(np.isfinite(per_filter_part), per_filter_part, -1.0)
        best_part[:] = scored.argmax(axis=1)
        per_filter[:] = scored.max(axis=1)
    mean = float(per_filter.mean()) if evaluable.any() else float("nan")
    return PartInterpretability(
        mean=mean,
        per_filter=per_filter,
        per_filter_part=per_filter_part,
        thresholds=thresholds,
        best_part=best_part,
    )


def best_part_histogram(result: PartInterpretability, part_names: Sequence[str]) -> dict[str, int]:
    """How many filters match each part best (argmax_k P_fk); filters with P_f = 0 or no
    evaluable part count under "none". Shows whether filters collapse onto a few parts."""
    if len(part_names) != result.per_filter_part.shape[1]:
        raise ValueError(
            f"part_names has {len(part_names)} names but the result has "
            f"{result.per_filter_part.shape[1]} parts"
        )
    histogram = {name: 0 for name in part_names}
    histogram[NO_PART] = 0
    for score, part in zip(result.per_filter, result.best_part, strict=True):
        if part < 0 or not score > 0:
            histogram[NO_PART] += 1
        else:
            histogram[part_names[part]] += 1
    return histogram


@dataclass(frozen=True)
class BestPartDiversity:
    """How the filters that match a part spread over the K parts (from the best-part histogram).

    share: the largest share, max_k n_k / sum_k n_k (1/K when spread evenly, 1 when collapsed).
    entropy: -sum_k p_k log p_k / log K with p_k = n_k / sum_k n_k (1 even, 0 collapsed).
    Both are NaN when no filter matches a part; entropy is NaN for a single part (log 1 = 0).
    """

    share: float
    entropy: float


def best_part_diversity(histogram: Mapping[str, int]) -> BestPartDiversity:
    """Largest share and normalised entropy of a best-part histogram (see BestPartDiversity).

    Filters counted under "none" (no part matched) are left out: the figures describe where the
    part-detecting filters sit, so that collapse onto one part shows however many filters match.
    """
    counts = np.array([n for part, n in histogram.items() if part != NO_PART], dtype=np.float64)
    if (counts < 0).any():
        raise ValueError(f"histogram counts must be non-negative, got {dict(histogram)}")
    total = counts.sum()
    if total == 0:
        return BestPartDiversity(float("nan"), float("nan"))
    shares = counts / total
    present = shares[shares > 0]
    entropy = (
        -(present * np.log(present)).sum() / np.log(len(counts)) if len(counts) > 1 else np.nan
    )
    return BestPartDiversity(float(shares.max()), float(entropy))


def radius_sensitivity(
    activations: ArrayLike,
    part_masks: ArrayLike,
    unit_centers: ArrayLike,
    radii: Sequence[float],
    quantile: float = 0.005,
    iou_threshold: float = 0.2,
) -> dict[float, float]:
    """mean_f P_f of the "rf-disk" protocol for each RF radius in radii: how much the metric
    depends on the region size (report it next to the figure at the default radius)."""
    if len(radii) == 0:
        raise ValueError("radii is empty: give at least one RF radius")
    return {
        float(radius): part_interpretability(
            activations, part_masks, unit_centers, radius, quantile, iou_threshold
        ).mean
        for radius in radii
    }
