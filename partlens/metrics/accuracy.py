"""Classification accuracy as in the paper's Table 7: single-category (one logistic logit per
image) and multi-category (softmax or independent logistic logits, argmax either way)."""

from __future__ import annotations

import numpy as np

from partlens.metrics._checks import ArrayLike, as_array, check_same


def _labels(labels: ArrayLike, n: int) -> np.ndarray:
    values = as_array("labels", labels, 1)
    if not np.issubdtype(values.dtype, np.integer):
        raise ValueError(f"labels must hold integer classes, got dtype {values.dtype}")
    check_same("labels", len(values), "logits", n, "number of images N")
    return values


def single_category_accuracy(logits: ArrayLike, labels: ArrayLike) -> float:
    """Share of images whose logistic prediction (logit > 0 means positive) equals the label.

    logits: [N] or [N, 1]; labels: int [N] with 1 = positive, 0 = negative.
    """
    scores = as_array("logits", logits, np.ndim(logits))
    if scores.ndim == 2 and scores.shape[1] == 1:
        scores = scores[:, 0]
    if scores.ndim != 1:
        raise ValueError(f"logits must have shape [N] or [N, 1], got {tuple(scores.shape)}")
    truth = _labels(labels, len(scores))
    if not np.isin(truth, (0, 1)).all():
        raise ValueError("labels of a single-category task must be 0 (negative) or 1 (positive)")
    return float(((scores > 0).astype(np.int64) == truth).mean())


def multi_category_accuracy(logits: ArrayLike, labels: ArrayLike) -> float:
    """Share of images whose argmax_c logit equals the label (logits [N, C], labels int [N])."""
    scores = as_array("logits", logits, 2)
    truth = _labels(labels, len(scores))
    if truth.min() < 0 or truth.max() >= scores.shape[1]:
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}) for logits {scores.shape}")
    return float((scores.argmax(axis=1) == truth).mean())


def per_category_accuracy(logits: ArrayLike, labels: ArrayLike) -> np.ndarray:
    """Multi-category accuracy within each true class: float [C], NaN for absent classes."""
    scores = as_array("logits", logits, 2)
    truth = _labels(labels, len(scores))
    if truth.min() < 0 or truth.max() >= scores.shape[1]:
        raise ValueError(f"labels must lie in [0, {scores.shape[1]}) for logits {scores.shape}")
    correct = scores.argmax(axis=1) == truth
    totals = np.bincount(truth, minlength=scores.shape[1])
    hits = np.bincount(truth, weights=correct, minlength=scores.shape[1])
    return np.where(totals > 0, hits / np.maximum(totals, 1), np.nan)
