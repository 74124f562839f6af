import numpy as np
import pytest

from partlens.data import Sample
from partlens.evaluation.annotations import (
    EvalAnnotations,
    evaluated_images,
    landmarks_per_category,
    part_oracle_maps,
)
from partlens.metrics import part_interpretability


class SquareParts:
    """Images of 32 px: a "head" square part with a landmark at its centre, a "tail" landmark
    that lies in no part, and a label per image."""

    landmark_names = ("tail", "head")
    part_names = ("head", "body")

    def __init__(self, labels):
        self.samples = []
        rng = np.random.default_rng(0)
        for index, label in enumerate(labels):
            y, x = rng.integers(4, 20, size=2)
            head = np.zeros((32, 32), bool)
            head[y : y + 8, x : x + 8] = True
            landmarks = {"head": (x + 4.0, y + 4.0)}
            if index % 2:
                landmarks["tail"] = (1.0, 1.0)
            masks = {"head": head, "body": np.zeros((32, 32), bool)}
            image = np.zeros((32, 32, 3), np.uint8)
            box = (float(x), float(y), x + 8.0, y + 8.0)
            self.samples.append(Sample(image, label, "c", box, masks, landmarks, index))

    def __getitem__(self, index):
        return self.samples[index]


def test_single_category_keeps_the_positives_in_dataset_order():
    labels = np.array([0, 1, 1, 0, 1])
    annotations = evaluated_images(SquareParts(labels), labels, ["negative", "cat"], "single")
    assert annotations.indices.tolist() == [1, 2, 4]
    assert annotations.category_names == ["cat"] and annotations.categories.tolist() == [0, 0, 0]
    assert annotations.part_masks.shape == (3, 2, 32, 32)
    # Absent landmarks are NaN; present ones are (x, y).
    assert (
        np.isnan(annotations.landmarks[1, 0]).all()
        and np.isfinite(annotations.landmarks[0, 0]).all()
    )
    with pytest.raises(ValueError, match="no image"):
        evaluated_images(SquareParts([0, 0]), np.array([0, 0]), ["negative", "cat"], "single")


def test_multi_category_landmarks_become_one_column_per_category():
    labels = np.array([0, 1, 1])
    annotations = evaluated_images(SquareParts(labels), labels, ["cat", "dog"], "multi")
    expanded, groups = landmarks_per_category(annotations)
    assert groups == [[0, 1], [2, 3]]
    assert np.isfinite(expanded[0, 1]).all() and np.isnan(expanded[0, 3]).all()
    assert np.isnan(expanded[1, 1]).all() and np.isfinite(expanded[1, 3]).all()


def test_the_part_oracle_sits_on_the_landmark_inside_the_part():
    labels = np.ones(6, dtype=np.int64)
    annotations = evaluated_images(SquareParts(labels), labels, ["negative", "cat"], "single")
    centers = np.stack(np.meshgrid(np.arange(8) * 4 + 2.0, np.arange(8) * 4 + 2.0), axis=-1)
    maps, targets = part_oracle_maps(annotations, centers)
    # One oracle for "head" (the "tail" landmark lies in no part; "body" has no landmark).
    assert maps.shape == (6, 1, 8, 8) and targets is None
    assert (np.count_nonzero(maps.reshape(6, -1), axis=1) == 1).all()
    result = part_interpretability(maps, annotations.part_masks, centers, 4.0, quantile=0.2)
    assert result.best_part.tolist() == [0] and result.mean > 0.5


def test_multi_category_oracles_fire_on_their_category_only():
    labels = np.array([0, 1, 0, 1])
    annotations = evaluated_images(SquareParts(labels), labels, ["cat", "dog"], "multi")
    assert isinstance(annotations, EvalAnnotations)
    centers = np.stack(np.meshgrid(np.arange(8) * 4 + 2.0, np.arange(8) * 4 + 2.0), axis=-1)
    maps, targets = part_oracle_maps(annotations, centers)
    assert targets.tolist() == [0, 1]
    fires = maps.reshape(4, 2, -1).max(axis=2) > 0
    assert fires.tolist() == [[True, False], [False, True], [True, False], [False, True]]
