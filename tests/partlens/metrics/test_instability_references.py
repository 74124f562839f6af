import math

import numpy as np
import pytest

from partlens.metrics import part_locked_oracle_reference, random_position_reference


def _posed_landmarks(rng: np.random.Generator, n: int) -> np.ndarray:
    """Head, torso, tail of an object that moves around a 100 px image, with pose jitter."""
    centre = rng.uniform(30, 70, size=(n, 1, 2))
    layout = np.array([[-15.0, -5.0], [0.0, 0.0], [15.0, 5.0]])
    return centre + layout + rng.normal(0, 2.0, size=(n, 3, 2))


def test_random_reference_matches_the_analytic_value_for_a_fixed_landmark():
    n, side = 4000, 64.0
    marks = np.full((n, 1, 2), side / 2)
    result = random_position_reference(marks, (side, side), num_filters=8, top_k=n)
    mean_r = (math.sqrt(2) + math.asinh(1)) / 6
    assert result.mean == pytest.approx(math.sqrt(1 / 6 - mean_r**2) / math.sqrt(2), rel=0.03)


def test_oracle_is_far_below_random_and_grid_snapping_costs_a_little():
    rng = np.random.default_rng(0)
    marks = _posed_landmarks(rng, 300)
    marks[::3, 2] = np.nan  # the tail is hidden on a third of the images
    centers = np.stack(np.meshgrid(np.arange(7) * 16 + 8.0, np.arange(7) * 16 + 8.0), axis=-1)
    random = random_position_reference(marks, (100, 100), centers, num_filters=64, seed=1)
    exact = part_locked_oracle_reference(marks, (100, 100))
    snapped = part_locked_oracle_reference(marks, (100, 100), centers)
    assert exact.per_filter.shape == (3,) and exact.excluded == 0
    # Locked exactly to its own landmark, a filter has zero instability for that landmark.
    assert np.diag(exact.per_filter_landmark) == pytest.approx(0.0, abs=1e-12)
    assert np.diag(snapped.per_filter_landmark).min() > 0
    assert exact.mean < snapped.mean < 0.5 * random.mean
    assert 0.1 < random.mean < 0.2
    # The tail-locked oracle is absent on images without a tail.
    assert snapped.images_used[2].max() <= 100 and exact.images_used[0, 2] == 100


def test_multi_category_references():
    rng = np.random.default_rng(2)
    marks = _posed_landmarks(rng, 60)
    marks[:30, 2] = np.nan
    marks[30:, :2] = np.nan
    groups = [[0, 1], [2]]
    oracle = part_locked_oracle_reference(marks, (100, 100), landmark_groups=groups)
    assert oracle.per_filter_category.shape == (3, 2)
    assert oracle.per_filter[2] == pytest.approx(0.0, abs=1e-12)
    random = random_position_reference(marks, (100, 100), landmark_groups=groups, num_filters=16)
    assert random.mean > oracle.mean


def test_reference_arguments_are_checked():
    with pytest.raises(ValueError, match="num_filters"):
        random_position_reference(np.zeros((3, 1, 2)), (10, 10), num_filters=0)
    with pytest.raises(ValueError, match="unit_centers"):
        part_locked_oracle_reference(np.zeros((3, 1, 2)), (10, 10), np.zeros((2, 2, 3)))
    with pytest.raises(ValueError, match="landmarks"):
        part_locked_oracle_reference(np.zeros((3, 2)), (10, 10))
