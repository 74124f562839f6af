import numpy as np
import pytest
import torch

from partlens.metrics import (
    multi_category_accuracy,
    per_category_accuracy,
    single_category_accuracy,
)


def test_single_category_accuracy_thresholds_logits_at_zero():
    logits = torch.tensor([[2.0], [-1.0], [0.5], [-0.1]])
    assert single_category_accuracy(logits, torch.tensor([1, 0, 0, 0])) == pytest.approx(0.75)
    assert single_category_accuracy(np.array([0.0, 1.0]), np.array([0, 1])) == 1.0
    with pytest.raises(ValueError, match="0 \\(negative\\) or 1"):
        single_category_accuracy(np.array([1.0]), np.array([2]))
    with pytest.raises(ValueError, match="logits"):
        single_category_accuracy(np.zeros((3, 2)), np.array([0, 1, 0]))
    with pytest.raises(ValueError, match="labels"):
        single_category_accuracy(np.zeros(3), np.array([0, 1]))


def test_multi_category_accuracy_and_per_category():
    logits = np.array([[3.0, 1, 0], [0, 2, 1], [0, 2, 5], [1, 0, 0]])
    labels = np.array([0, 1, 1, 0])
    assert multi_category_accuracy(logits, labels) == pytest.approx(0.75)
    per = per_category_accuracy(logits, labels)
    assert per[:2].tolist() == [1.0, 0.5] and np.isnan(per[2])
    with pytest.raises(ValueError, match="labels must lie"):
        multi_category_accuracy(logits, np.array([0, 1, 3, 0]))
    with pytest.raises(ValueError, match="integer"):
        multi_category_accuracy(logits, labels.astype(float))
