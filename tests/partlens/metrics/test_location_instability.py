import math

import numpy as np
import pytest
import torch

from partlens.metrics.location_instability import inferred_part_positions, location_instability


def _landmarks(rng: np.random.Generator, n: int, k: int, size: float = 100.0) -> np.ndarray:
    return rng.uniform(10, size - 10, size=(n, k, 2))


def test_filter_at_landmark_plus_constant_offset_has_zero_instability():
    rng = np.random.default_rng(0)
    marks = _landmarks(rng, 30, 2)
    positions = np.stack([marks[:, 0] + [3.0, -4.0], marks[:, 1]], axis=1)  # [N, F=2, 2]
    scores = rng.uniform(size=(30, 2))
    result = location_instability(positions, scores, marks[:, :1], (100, 100))
    assert result.per_filter_landmark.shape == (2, 1)
    assert result.per_filter_landmark[0, 0] == pytest.approx(0.0, abs=1e-12)
    assert result.per_filter_landmark[1, 0] > 0.05
    assert result.excluded == 0


def test_hand_computed_standard_deviation_uses_n_minus_1():
    # Distances 0, 3, 6 px on a 30x40 image (diagonal 50): std = 3 / 50 with the N-1 denominator.
    marks = np.zeros((3, 1, 2))
    positions = np.array([[[0.0, 0.0]], [[3.0, 0.0]], [[0.0, 6.0]]])
    result = location_instability(positions, np.ones((3, 1)), marks, (30, 40))
    assert result.per_filter_landmark[0, 0] == pytest.approx(3.0 / 50.0)
    assert result.mean == pytest.approx(3.0 / 50.0)
    assert result.images_used[0, 0] == 3


def test_uniform_random_positions_match_the_analytic_value():
    # Landmark at the centre of a square, positions uniform on it: E[r^2] = L^2/6 and
    # E[r] = L (sqrt(2) + asinh(1)) / 6, divided by the diagonal L sqrt(2).
    rng = np.random.default_rng(1)
    n, side = 20000, 64.0
    positions = rng.uniform(0, side, size=(n, 1, 2))
    marks = np.full((n, 1, 2), side / 2)
    result = location_instability(positions, rng.uniform(size=(n, 1)), marks, (side, side), n)
    mean_r = (math.sqrt(2) + math.asinh(1)) / 6
    expected = math.sqrt(1 / 6 - mean_r**2) / math.sqrt(2)
    assert result.mean == pytest.approx(expected, rel=0.02)


def test_top_k_keeps_the_highest_scoring_images():
    marks = np.zeros((5, 1, 2))
    positions = np.array([[[0.0, 0]], [[1.0, 0]], [[90.0, 0]], [[2.0, 0]], [[70.0, 0]]])
    scores = np.array([[5.0], [4.0], [0.1], [3.0], [0.2]])
    result = location_instability(positions, scores, marks, (100, 0.001), top_k=3)
    # The three best images sit at 0, 1, 2 px: std 1 px over a diagonal of ~100.
    assert result.per_filter_landmark[0, 0] == pytest.approx(1.0 / 100.0, rel=1e-6)
    assert result.images_used[0, 0] == 3


def test_absent_landmarks_and_excluded_filters():
    rng = np.random.default_rng(2)
    marks = _landmarks(rng, 6, 3)
    marks[:, 1] = np.nan  # never visible
    marks[1:, 2, 0] = np.nan  # visible on one image only: no standard deviation
    positions = rng.uniform(0, 100, size=(6, 2, 2))
    positions[:, 1] = np.nan  # filter 1 never has an inferred part
    result = location_instability(positions, rng.uniform(size=(6, 2)), marks, (100, 100))
    assert np.isfinite(result.per_filter_landmark[0, 0])
    assert np.isnan(result.per_filter_landmark[0, 1:]).all()
    assert result.per_filter[0] == pytest.approx(result.per_filter_landmark[0, 0])
    assert np.isnan(result.per_filter[1])
    assert result.excluded == 1
    assert result.mean == pytest.approx(result.per_filter[0])


def test_images_without_a_part_are_skipped_for_that_filter_only():
    marks = np.zeros((4, 1, 2))
    positions = np.array([[[0.0, 0]], [[4.0, 0]], [[50.0, 0]], [[8.0, 0]]])
    positions = np.concatenate([positions, positions], axis=1)
    scores = np.ones((4, 2))
    scores[2, 1] = np.nan
    result = location_instability(positions, scores, marks, (100, 0.001))
    assert result.per_filter_landmark[1, 0] == pytest.approx(0.04, rel=1e-6)
    assert result.per_filter_landmark[0, 0] > 0.2
    assert result.images_used[:, 0].tolist() == [4, 3]


def test_invariant_to_filter_order():
    rng = np.random.default_rng(3)
    marks = _landmarks(rng, 40, 3)
    positions = rng.uniform(0, 100, size=(40, 7, 2))
    scores = rng.uniform(size=(40, 7))
    perm = rng.permutation(7)
    base = location_instability(positions, scores, marks, (100, 100), top_k=10)
    permuted = location_instability(positions[:, perm], scores[:, perm], marks, (100, 100), 10)
    assert permuted.mean == pytest.approx(base.mean)
    np.testing.assert_allclose(permuted.per_filter, base.per_filter[perm])


def test_accepts_torch_tensors():
    rng = np.random.default_rng(4)
    marks = _landmarks(rng, 10, 2)
    positions = rng.uniform(0, 100, size=(10, 3, 2))
    scores = rng.uniform(size=(10, 3))
    from_numpy = location_instability(positions, scores, marks, (100, 100))
    from_torch = location_instability(
        torch.from_numpy(positions), torch.from_numpy(scores).float(), marks, (100, 100)
    )
    assert from_torch.mean == pytest.approx(from_numpy.mean)


@pytest.mark.parametrize(
    ("positions", "scores", "landmarks", "message"),
    [
        (np.zeros((4, 2, 3)), np.zeros((4, 2)), np.zeros((4, 1, 2)), "positions"),
        (np.zeros((4, 2, 2)), np.zeros((4, 3)), np.zeros((4, 1, 2)), "scores"),
        (np.zeros((4, 2, 2)), np.zeros((4, 2)), np.zeros((5, 1, 2)), "landmarks"),
        (np.zeros((4, 2)), np.zeros((4, 2)), np.zeros((4, 1, 2)), "positions"),
        (np.zeros((0, 2, 2)), np.zeros((0, 2)), np.zeros((0, 1, 2)), "empty"),
        (np.zeros((4, 2, 2), dtype=bool), np.zeros((4, 2)), np.zeros((4, 1, 2)), "dtype"),
    ],
)
def test_bad_shapes_and_dtypes_raise_clear_errors(positions, scores, landmarks, message):
    with pytest.raises(ValueError, match=message):
        location_instability(positions, scores, landmarks, (10, 10))


def test_bad_options_raise():
    args = (np.zeros((3, 1, 2)), np.zeros((3, 1)), np.zeros((3, 1, 2)))
    with pytest.raises(ValueError, match="top_k"):
        location_instability(*args, (10, 10), top_k=0)
    with pytest.raises(ValueError, match="image_size"):
        location_instability(*args, (10, -1))


def test_inferred_part_positions_take_the_argmax_unit_centre():
    maps = np.zeros((2, 3, 2, 4), dtype=np.float16)
    maps[0, 0, 1, 2] = 5.0
    maps[1, 2, 0, 3] = 2.0
    centers = np.stack(np.meshgrid(np.arange(4) * 8 + 4.0, np.arange(2) * 8 + 4.0), axis=-1)
    positions, scores = inferred_part_positions(maps, centers)
    assert positions.shape == (2, 3, 2) and scores.shape == (2, 3)
    assert positions[0, 0].tolist() == [20.0, 12.0]
    assert positions[1, 2].tolist() == [28.0, 4.0]
    assert scores[0, 0] == 5.0 and scores[1, 2] == 2.0
    with pytest.raises(ValueError, match="unit_centers"):
        inferred_part_positions(maps, centers[:1])
