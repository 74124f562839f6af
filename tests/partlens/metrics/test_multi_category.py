import numpy as np
import pytest

from partlens.metrics import (
    filter_target_categories,
    location_instability,
    multi_category_location_instability,
    multi_category_part_interpretability,
    part_interpretability,
)


def test_target_category_is_the_one_with_the_highest_mean_activation():
    maps = np.zeros((5, 3, 2, 2))
    categories = np.array([0, 0, 1, 1, 1])
    maps[:2, 0] = 1.0  # filter 0 fires on category 0
    maps[2:, 1] = 2.0  # filter 1 on category 1
    maps[0, 2] = 9.0  # filter 2: mean 4.5 * 4 units on category 0 vs 1 on category 1
    maps[2:, 2] = 1.0
    assert filter_target_categories(maps, categories).tolist() == [0, 1, 0]
    # A category without images never wins, even when every mean is zero elsewhere.
    assert filter_target_categories(-maps, categories, num_categories=3).tolist() == [1, 0, 1]
    with pytest.raises(ValueError, match="image_categories"):
        filter_target_categories(maps, categories[:4])
    with pytest.raises(ValueError, match="integer"):
        filter_target_categories(maps, categories.astype(float))


def test_instability_takes_the_best_category():
    rng = np.random.default_rng(0)
    n = 40
    marks = np.full((n, 3, 2), np.nan)
    cat = np.repeat([0, 1], n // 2)
    marks[cat == 0, 0] = rng.uniform(10, 90, size=(n // 2, 2))
    marks[cat == 1, 1:] = rng.uniform(10, 90, size=(n // 2, 2, 2))
    positions = rng.uniform(0, 100, size=(n, 2, 2))
    positions[cat == 0, 0] = marks[cat == 0, 0] + 2.0  # filter 0 locked to landmark 0
    scores = rng.uniform(size=(n, 2))
    groups = [[0], [1, 2]]
    result = multi_category_location_instability(positions, scores, marks, (100, 100), groups)
    single = location_instability(positions, scores, marks, (100, 100))
    d = single.per_filter_landmark
    assert result.per_filter_category[1, 1] == pytest.approx(d[1, 1:].mean())
    assert result.per_filter[0] == pytest.approx(0.0, abs=1e-12)
    assert result.best_category[0] == 0
    assert result.per_filter[1] == pytest.approx(np.nanmin(result.per_filter_category[1]))
    assert result.mean == pytest.approx(result.per_filter.mean())
    assert result.excluded == 0
    with pytest.raises(ValueError, match="landmark_groups"):
        multi_category_location_instability(positions, scores, marks, (100, 100), [[0], [5]])


def test_part_interpretability_uses_the_images_of_each_filters_category():
    rng = np.random.default_rng(1)
    centers = np.stack(np.meshgrid(np.arange(3) * 4 + 2.0, np.arange(3) * 4 + 2.0), axis=-1)
    maps = rng.gamma(1.0, size=(10, 4, 3, 3))
    masks = rng.uniform(size=(10, 2, 12, 12)) < 0.4
    categories = np.array([0] * 6 + [1] * 4)
    masks[categories == 0, 1] = False
    masks[categories == 1, 0] = False
    targets = np.array([0, 1, 1, 0])
    result = multi_category_part_interpretability(
        maps, masks, centers, 3.0, categories, targets, quantile=0.2
    )
    expected_1 = part_interpretability(
        maps[categories == 1][:, [1, 2]], masks[categories == 1], centers, 3.0, 0.2
    )
    np.testing.assert_allclose(result.per_filter_part[[1, 2]], expected_1.per_filter_part)
    assert np.isnan(result.per_filter_part[[0, 3], 1]).all()  # part 1 never on category 0
    assert result.target_categories.tolist() == [0, 1, 1, 0]
    assert result.mean == pytest.approx(np.nanmean(result.per_filter))
    default = multi_category_part_interpretability(maps, masks, centers, 3.0, categories)
    assert default.target_categories.tolist() == filter_target_categories(maps, categories).tolist()
    with pytest.raises(ValueError, match="target_categories"):
        multi_category_part_interpretability(maps, masks, centers, 3.0, categories, [0, 1])
