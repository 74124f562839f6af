import math

import numpy as np
import pytest
import torch

from partlens.metrics.part_interpretability import (
    activation_thresholds,
    best_part_diversity,
    best_part_histogram,
    part_interpretability,
    rf_disks,
)


def _grid_centers(h: int, w: int, stride: float) -> np.ndarray:
    xs = np.arange(w) * stride + stride / 2
    ys = np.arange(h) * stride + stride / 2
    return np.stack(np.meshgrid(xs, ys), axis=-1)  # [h, w, 2] (x, y)


def _disk(size: int, cx: float, cy: float, radius: float) -> np.ndarray:
    ys, xs = np.mgrid[0:size, 0:size] + 0.5
    return (xs - cx) ** 2 + (ys - cy) ** 2 <= radius**2


def test_thresholds_sit_at_the_quantile_boundary():
    maps = np.arange(1000, dtype=np.float32).reshape(10, 1, 10, 10)
    threshold = activation_thresholds(maps, 0.005)[0]
    assert (maps > threshold).sum() == 5  # exactly 0.5% of the units lie above T_f
    exact = activation_thresholds(np.arange(101.0).reshape(1, 1, 1, 101), 0.01)[0]
    assert exact == pytest.approx(99.0)  # a unit equal to T_f is not "above" it


def test_region_equal_to_part_mask_scores_one():
    centers = _grid_centers(4, 4, 8.0)
    rng = np.random.default_rng(0)
    n, radius = 6, 7.0
    maps = np.zeros((n, 2, 4, 4), dtype=np.float32)
    masks = np.zeros((n, 2, 32, 32), dtype=bool)
    for i in range(n):
        row, col = rng.integers(0, 4, size=2)
        maps[i, 0, row, col] = 1.0 + i  # filter 0 fires on the unit at part 0
        maps[i, 1, (row + 2) % 4, (col + 2) % 4] = 1.0  # filter 1 fires away from it
        masks[i, 0] = _disk(32, *centers[row, col], radius)
    # One unit in 16 fires: quantile 1/16 puts T_f between the zeros and the firing units.
    result = part_interpretability(maps, masks, centers, radius, quantile=1 / 16)
    assert result.per_filter_part[0, 0] == pytest.approx(1.0)
    assert result.per_filter_part[1, 0] == pytest.approx(0.0)
    assert np.isnan(result.per_filter_part[:, 1]).all()  # part 1 is in no image
    assert result.per_filter.tolist() == [1.0, 0.0]
    assert result.best_part[0] == 0
    assert result.mean == pytest.approx(0.5)
    assert best_part_histogram(result, ["head", "tail"]) == {"head": 1, "tail": 0, "none": 1}


def test_only_images_containing_the_part_count():
    centers = _grid_centers(2, 2, 16.0)
    maps = np.zeros((4, 1, 2, 2), dtype=np.float32)
    maps[:, 0, 0, 0] = 1.0
    masks = np.zeros((4, 1, 32, 32), dtype=bool)
    masks[0, 0] = _disk(32, 8, 8, 6)  # matches the region
    masks[1, 0] = _disk(32, 24, 24, 6)  # present but elsewhere
    result = part_interpretability(maps, masks, centers, 6.0, quantile=0.25)
    assert result.per_filter_part[0, 0] == pytest.approx(0.5)  # 1 hit of 2 images with the part


def test_iou_threshold_is_strict_and_applies_to_the_true_iou():
    centers = _grid_centers(1, 1, 32.0)
    maps = np.ones((2, 1, 1, 1), dtype=np.float32)
    maps[1] = 0.0
    region = _disk(32, 16, 16, 8)
    masks = np.zeros((2, 1, 32, 32), dtype=bool)
    masks[0, 0] = region
    masks[0, 0, :16] = False  # lower half of the disk: IoU = area(half) / area(disk)
    iou = masks[0, 0].sum() / region.sum()
    below = part_interpretability(maps, masks, centers, 8.0, 0.5, iou_threshold=iou - 1e-3)
    above = part_interpretability(maps, masks, centers, 8.0, 0.5, iou_threshold=iou + 1e-3)
    assert below.per_filter[0] == 1.0 and above.per_filter[0] == 0.0


def test_bilinear_region_thresholds_the_upsampled_map():
    maps = np.zeros((1, 1, 4, 4), dtype=np.float32)
    maps[0, 0, :, :2] = 1.0  # left half fires; T_f = 0.5 at quantile 0.5
    masks = np.zeros((1, 2, 16, 16), dtype=bool)
    masks[0, 0, :, :8] = True  # left half: IoU 1
    masks[0, 1, :, :4] = True  # left quarter: IoU 0.5
    centers = _grid_centers(4, 4, 4.0)
    loose = part_interpretability(maps, masks, centers, 1.0, 0.5, 0.2, region="bilinear")
    strict = part_interpretability(maps, masks, centers, 1.0, 0.5, 0.6, region="bilinear")
    assert loose.per_filter_part[0].tolist() == [1.0, 1.0]
    assert strict.per_filter_part[0].tolist() == [1.0, 0.0]


def _brute_force(maps, masks, centers, radius, quantile, iou_threshold):
    n, f = maps.shape[:2]
    k, size = masks.shape[1], masks.shape[2]
    result = np.full((f, k), np.nan)
    for fi in range(f):
        threshold = np.quantile(maps[:, fi].ravel(), 1 - quantile)
        for ki in range(k):
            outcomes = []
            for i in range(n):
                if not masks[i, ki].any():
                    continue
                region = np.zeros((size, size), dtype=bool)
                for r, c in zip(*np.nonzero(maps[i, fi] > threshold), strict=True):
                    region |= _disk(size, *centers[r, c], radius)
                union = (region | masks[i, ki]).sum()
                iou = (region & masks[i, ki]).sum() / union if union else 0.0
                outcomes.append(iou > iou_threshold)
            if outcomes:
                result[fi, ki] = np.mean(outcomes)
    return result


def test_matches_a_brute_force_reference_and_is_invariant_to_filter_order():
    rng = np.random.default_rng(5)
    centers = _grid_centers(3, 3, 6.0)
    maps = rng.gamma(1.0, size=(8, 5, 3, 3)).astype(np.float32)
    masks = np.zeros((8, 3, 18, 18), dtype=bool)
    for i in range(8):
        for k in range(3):
            if rng.uniform() < 0.8:
                masks[i, k] = _disk(18, *rng.uniform(0, 18, size=2), rng.uniform(3, 8))
    result = part_interpretability(maps, masks, centers, 5.0, quantile=0.15, iou_threshold=0.2)
    expected = _brute_force(maps, masks, centers, 5.0, 0.15, 0.2)
    np.testing.assert_allclose(result.per_filter_part, expected)
    assert np.nanmax(expected) > 0  # the case is not trivially all-zero
    perm = rng.permutation(5)
    permuted = part_interpretability(maps[:, perm], masks, centers, 5.0, 0.15, 0.2)
    np.testing.assert_allclose(permuted.per_filter_part, result.per_filter_part[perm])
    assert permuted.mean == pytest.approx(result.mean)


def test_accepts_float16_and_torch_inputs():
    rng = np.random.default_rng(6)
    maps = rng.gamma(1.0, size=(4, 2, 3, 3))
    masks = rng.uniform(size=(4, 2, 12, 12)) < 0.3
    centers = _grid_centers(3, 3, 4.0)
    base = part_interpretability(maps.astype(np.float16), masks, centers, 3.0, 0.2)
    other = part_interpretability(
        torch.from_numpy(maps).half(), torch.from_numpy(masks), centers, 3.0, 0.2
    )
    np.testing.assert_array_equal(base.per_filter_part, other.per_filter_part)


def test_rf_disks_use_pixel_centres():
    disks = rf_disks(np.array([[[1.0, 1.0]]]), 0.75, (3, 3)).reshape(3, 3)
    # Pixel centres at 0.5 and 1.5: only the four pixels around (1, 1) are within 0.75.
    assert disks.tolist() == [[True, True, False], [True, True, False], [False] * 3]


@pytest.mark.parametrize(
    ("maps", "masks", "centers", "message"),
    [
        (np.zeros((2, 1, 3, 3)), np.zeros((2, 1, 8, 8)), np.zeros((3, 3, 2)), "bool"),
        (np.zeros((2, 1, 3, 3)), np.zeros((3, 1, 8, 8), bool), np.zeros((3, 3, 2)), "part_masks"),
        (np.zeros((2, 1, 3, 3)), np.zeros((2, 1, 8, 8), bool), np.zeros((3, 2, 2)), "unit_centers"),
        (np.zeros((2, 1, 3)), np.zeros((2, 1, 8, 8), bool), np.zeros((3, 3, 2)), "activations"),
        (np.zeros((0, 1, 3, 3)), np.zeros((0, 1, 8, 8), bool), np.zeros((3, 3, 2)), "empty"),
    ],
)
def test_bad_inputs_raise_clear_errors(maps, masks, centers, message):
    with pytest.raises(ValueError, match=message):
        part_interpretability(maps, masks, centers, 2.0)


def test_bad_options_raise():
    maps, masks = np.ones((1, 1, 2, 2)), np.ones((1, 1, 4, 4), bool)
    centers = _grid_centers(2, 2, 2.0)
    with pytest.raises(ValueError, match="rf_radius"):
        part_interpretability(maps, masks, centers, 0.0)
    with pytest.raises(ValueError, match="region"):
        part_interpretability(maps, masks, centers, 1.0, region="box")
    with pytest.raises(ValueError, match="quantile"):
        part_interpretability(maps, masks, centers, 1.0, quantile=1.5)
    with pytest.raises(ValueError, match="NaN"):
        part_interpretability(np.full((1, 1, 2, 2), np.nan), masks, centers, 1.0)


def test_radius_sensitivity_reports_the_mean_per_radius():
    from partlens.metrics import radius_sensitivity

    centers = _grid_centers(1, 1, 64.0)
    maps = np.array([1.0, 0.0], dtype=np.float32).reshape(2, 1, 1, 1)  # T_f = 0.5
    masks = np.stack([_disk(64, 32, 32, 8), np.zeros((64, 64), bool)])[:, None]
    table = radius_sensitivity(maps, masks, centers, [2.0, 8.0, 14.0, 24.0], quantile=0.5)
    # IoU of concentric disks = (small / large)^2: 0.06 fails, 1 and 0.33 pass, 0.11 fails.
    assert table == {2.0: 0.0, 8.0: 1.0, 14.0: 1.0, 24.0: 0.0}
    with pytest.raises(ValueError, match="radii"):
        radius_sensitivity(maps, masks, centers, [])


@pytest.mark.parametrize("parts", [2, 5])
def test_diversity_of_an_even_histogram_is_one_over_k_and_entropy_one(parts):
    histogram = {f"p{k}": 3 for k in range(parts)} | {"none": 7}
    diversity = best_part_diversity(histogram)
    assert diversity.share == pytest.approx(1 / parts)
    assert diversity.entropy == pytest.approx(1.0)


def test_diversity_of_a_collapsed_histogram_is_share_one_and_entropy_zero():
    diversity = best_part_diversity({"head": 0, "torso": 64, "legs": 0, "none": 3})
    assert diversity.share == 1.0 and diversity.entropy == 0.0


def test_diversity_in_between_and_undefined_cases():
    # 3 on head, 1 on torso of 2 parts: H(3/4, 1/4) / log 2.
    expected = -(0.75 * math.log(0.75) + 0.25 * math.log(0.25)) / math.log(2)
    assert best_part_diversity({"head": 3, "torso": 1}).entropy == pytest.approx(expected)
    assert math.isnan(best_part_diversity({"head": 0, "none": 4}).share)
    assert math.isnan(best_part_diversity({"head": 4}).entropy)  # K = 1: no spread to measure
    with pytest.raises(ValueError, match="non-negative"):
        best_part_diversity({"head": -1, "torso": 2})
