"""The built-in procedural part dataset: any sample regenerable from (seed, split, index)."""

from __future__ import annotations

import numpy as np
import torch

from partlens.data.builtin.animals import BODY_PLANS, LANDMARK_NAMES, PART_NAMES
from partlens.data.builtin.objects import OBJECT_KINDS
from partlens.data.builtin.render import render_scene
from partlens.data.dataset import SPLITS, PartDataset, register_dataset
from partlens.data.transforms import flip_sample
from partlens.data.types import Sample

BUILTIN_CATEGORIES: tuple[str, ...] = tuple(BODY_PLANS)
# Bumped whenever the images a (seed, split, index) gives change: pretrained backbones record
# the version they were trained on, and a test compares the shipped one's with this.
GENERATOR_VERSION = 2
DEFAULT_SIZES = {"train": 1200, "test": 400}
BACKGROUND = "background"


def negative_kinds(category: str) -> list[str]:
    """One turn of the single-category negatives of `category`, in the order they cycle: the
    other animals, the non-animal objects, then background."""
    return [c for c in BUILTIN_CATEGORIES if c != category] + list(OBJECT_KINDS) + [BACKGROUND]


@register_dataset("builtin", needs_root=False)
class BuiltinDataset(PartDataset):
    """Bounding-box crops of procedural animals with part masks and landmarks.

    "crop" framing scales the object so that its long side fills the image, keeping its aspect
    ratio (proportions are the category cue). Clutter, contrast and pattern strength are the
    difficulty knobs at the top of `partlens.data.builtin.render`, set so that the ordinary
    `tiny` CNN learns the task in a few thousand images (see bench/dataset.py).

    Single-category (`task="single"`): categories == ["negative", category]; a share
    `positive_fraction` of samples are crops of `category` (label 1), the rest (label 0) are
    negatives as the paper's are "images of other categories": in equal turns, crops of each
    other animal category, of each non-animal object kind (OBJECT_KINDS: vehicle, chair, table,
    plant; no part masks, no landmarks) and of background. With six animals that is 5 animals,
    4 objects and 1 background in every 10 negatives (`negative_kinds`). Multi-category:
    animals only, label = index into `categories`, balanced. Negatives and positives are
    interleaved by a seeded permutation, so any prefix is mixed.
    """

    def __init__(
        self,
        split: str,
        image_size: int,
        *,
        task: str = "single",
        category: str = "bird",
        size: int | None = None,
        positive_fraction: float = 0.5,
        seed: int = 0,
        augment: bool = False,
        framing: str = "crop",
    ) -> None:
        if split not in SPLITS:
            raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
        if task not in ("single", "multi"):
            raise ValueError(f"task must be 'single' or 'multi', got {task!r}")
        if task == "single" and category not in BUILTIN_CATEGORIES:
            raise ValueError(f"unknown category {category!r}; known: {BUILTIN_CATEGORIES}")
        if not 0.0 <= positive_fraction <= 1.0:
            raise ValueError(f"positive_fraction must be in [0, 1], got {positive_fraction}")
        if framing not in ("crop", "scene"):
            raise ValueError(f"framing must be 'crop' or 'scene', got {framing!r}")
        size = DEFAULT_SIZES[split] if size is None else size
        if size < 1:
            raise ValueError(f"size must be positive, got {size}")
        self.split, self.image_size, self.task, self.seed = split, image_size, task, seed
        self.augment = augment and split == "train"
        self.framing = framing
        self.part_names = list(PART_NAMES)
        self.landmark_names = list(LANDMARK_NAMES)
        order = np.random.default_rng([seed, SPLITS.index(split), 1]).permutation(size)
        if task == "single":
            self.categories = ["negative", category]
            negatives = negative_kinds(category)
            n_pos = round(positive_fraction * size)
            kinds = [category] * n_pos + [
                negatives[k % len(negatives)] for k in range(size - n_pos)
            ]
        else:
            self.categories = list(BUILTIN_CATEGORIES)
            kinds = [BUILTIN_CATEGORIES[k % len(BUILTIN_CATEGORIES)] for k in range(size)]
        self._kinds = [kinds[k] for k in order]

    def __len__(self) -> int:
        return len(self._kinds)

    def label_of(self, category: str) -> int:
        """Task label of an object category (or "background") in this dataset."""
        if self.task == "single":
            return int(category == self.categories[1])
        return self.categories.index(category)

    def __getitem__(self, index: int) -> Sample:
        """Generate sample `index` (deterministic from seed, split and index; flipped at random
        by torch's RNG when `augment` is on)."""
        index = self._check_index(index)
        kind = self._kinds[index]
        rng = np.random.default_rng([self.seed, SPLITS.index(self.split), 0, index])
        figure = None if kind == BACKGROUND else kind
        scene = render_scene(figure, self.image_size, rng, self.framing)
        masks = {name: scene.part_map == k + 1 for k, name in enumerate(PART_NAMES)}
        sample = Sample(
            image=scene.image,
            label=self.label_of(kind),
            category=kind,
            bbox=scene.bbox,
            part_masks=masks,
            landmarks=scene.landmarks,
            index=index,
        )
        if self.augment and bool(torch.rand(()) < 0.5):
            sample = flip_sample(sample)
        return sample
