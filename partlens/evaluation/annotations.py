"""The ground truth of a run's evaluated images in the array layouts the metrics take, the
part-locked oracle filters whose scores give the part-interpretability figure its scale, and the
stored copy of that ground truth the API reads (``annotations.npz``: no dataset at serve time)."""

from __future__ import annotations

import io
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from partlens.store.atomic_io import atomic_write_bytes

ANNOTATIONS_FILE = "annotations.npz"


@dataclass(frozen=True)
class EvalAnnotations:
    """The evaluated images (one row each) with their ground truth."""

    indices: np.ndarray  # int [N], positions in the evaluation dataset (and the feature files)
    category_names: list[str]
    categories: np.ndarray  # int [N] into category_names
    landmark_names: list[str]
    landmarks: np.ndarray  # float [N, K, 2] (x, y), NaN where absent
    part_names: list[str]
    part_masks: np.ndarray  # bool [N, P, H, W] (P = 0 without masks)
    bboxes: np.ndarray  # float [N, 4], NaN rows without an object
    images: list[np.ndarray]

    @property
    def has_masks(self) -> bool:
        """Whether part interpretability can be scored: False for datasets that annotate
        landmarks (and boxes) only, such as CUB-200 and ILSVRC Animal-Part."""
        return self.part_masks.shape[1] > 0


def evaluated_images(
    dataset: Any, labels: np.ndarray, categories: Sequence[str], task: str
) -> EvalAnnotations:
    """The images a run is evaluated on, as the paper: single-category, the positives (label 1)
    of its category; multi-category, every image, with its label as category index."""
    if task == "single":
        indices = np.flatnonzero(labels == 1)
        names, image_categories = [categories[1]], np.zeros(len(indices), dtype=np.int64)
    else:
        indices = np.arange(len(labels))
        names, image_categories = list(categories), labels
    if len(indices) == 0:
        raise ValueError("the evaluation set has no image of the run's category")
    samples = [dataset[int(index)] for index in indices]
    landmark_names, part_names = list(dataset.landmark_names), list(dataset.part_names)
    landmarks = np.full((len(samples), len(landmark_names), 2), np.nan)
    bboxes = np.full((len(samples), 4), np.nan)
    size = samples[0].image.shape[:2]
    if all(sample.part_masks is None for sample in samples):
        part_names = []  # landmark-only: no part has a mask to score
    masks = np.zeros((len(samples), len(part_names), *size), dtype=bool)
    for row, sample in enumerate(samples):
        for k, name in enumerate(landmark_names):
            if name in sample.landmarks:
                landmarks[row, k] = sample.landmarks[name]
        if sample.bbox is not None:
            bboxes[row] = sample.bbox
        for k, name in enumerate(part_names):
            if sample.part_masks is not None and name in sample.part_masks:
                masks[row, k] = sample.part_masks[name]
    return EvalAnnotations(
        indices=indices,
        category_names=names,
        categories=np.asarray(image_categories, dtype=np.int64),
        landmark_names=landmark_names,
        landmarks=landmarks,
        part_names=part_names,
        part_masks=masks,
        bboxes=bboxes,
        images=[sample.image for sample in samples],
    )


def save_annotation_arrays(path: Path, annotations: EvalAnnotations) -> None:
    """Write the ground truth of the evaluated images as ``.npz`` (atomically): indices [N],
    categories [N], category_names [C], bboxes [N, 4] and landmarks [N, K, 2] in image
    pixels, landmark_names [K]."""
    buffer = io.BytesIO()
    np.savez(
        buffer,
        indices=np.asarray(annotations.indices, dtype=np.int64),
        categories=np.asarray(annotations.categories, dtype=np.int64),
        category_names=np.asarray(annotations.category_names, dtype=str),
        bboxes=np.asarray(annotations.bboxes, dtype=np.float64),
        landmarks=np.asarray(annotations.landmarks, dtype=np.float64),
        landmark_names=np.asarray(annotations.landmark_names, dtype=str),
    )
    atomic_write_bytes(path, buffer.getvalue())


def landmarks_per_category(annotations: EvalAnnotations) -> tuple[np.ndarray, list[list[int]]]:
    """Landmark k of category c as its own column (c * K + k), NaN on other categories' images,
    and each category's columns: the categories' parts are distinct parts (Part_c of the
    paper's multi-category instability, mean_f min_c mean_{k in Part_c} D_fk)."""
    n, k = annotations.landmarks.shape[:2]
    num_categories = len(annotations.category_names)
    expanded = np.full((n, num_categories * k, 2), np.nan)
    for c in range(num_categories):
        rows = annotations.categories == c
        expanded[rows, c * k : (c + 1) * k] = annotations.landmarks[rows]
    return expanded, [list(range(c * k, (c + 1) * k)) for c in range(num_categories)]


def part_oracle_maps(
    annotations: EvalAnnotations, unit_centers: np.ndarray
) -> tuple[np.ndarray, np.ndarray | None]:
    """Maps [N, F, h, w] of part-locked oracle filters and, multi-category, their categories.

    One oracle per part fires at the unit nearest the landmark that lies inside that part most
    often (with a random strength, so that the quantile threshold T_f keeps its top images) and
    nowhere else. Its P_f is the best a perfect part detector can score with this grid, RF
    radius and part size: the ceiling of the part-interpretability figure. Multi-category: one
    oracle per category and part, firing on that category's images only.
    """
    kept = _landmark_per_part(annotations)
    flat = unit_centers.reshape(-1, 2)
    h, w = unit_centers.shape[:2]
    num_categories = len(annotations.category_names)
    multi = num_categories > 1
    columns = num_categories * len(kept) if multi else len(kept)
    maps = np.zeros((len(annotations.indices), columns, h * w), dtype=np.float32)
    rng = np.random.default_rng(0)
    for row in range(len(annotations.indices)):
        offset = annotations.categories[row] * len(kept) if multi else 0
        for j, k in enumerate(kept):
            point = annotations.landmarks[row, k]
            if np.isfinite(point).all():
                unit = ((flat - point) ** 2).sum(axis=1).argmin()
                maps[row, offset + j, unit] = rng.uniform(0.5, 1.0)
    targets = np.repeat(np.arange(num_categories), len(kept)) if multi else None
    return maps.reshape(len(maps), columns, h, w), targets


def _landmark_per_part(annotations: EvalAnnotations) -> list[int]:
    """For each part, the landmark that falls inside its mask on the largest share of images
    (parts that no landmark falls in are left out); all landmarks when there are no masks."""
    masks, landmarks = annotations.part_masks, annotations.landmarks
    height, width = masks.shape[2:]
    inside = np.zeros((landmarks.shape[1], masks.shape[1]))
    for k in range(landmarks.shape[1]):
        present = np.flatnonzero(np.isfinite(landmarks[:, k]).all(axis=1))
        cols = np.clip(landmarks[present, k, 0].astype(np.int64), 0, width - 1)
        rows = np.clip(landmarks[present, k, 1].astype(np.int64), 0, height - 1)
        inside[k] = masks[present, :, rows, cols].mean(axis=0) if len(present) else 0.0
    chosen = [int(inside[:, part].argmax()) for part in np.flatnonzero(inside.max(axis=0))]
    return chosen or list(range(landmarks.shape[1]))
