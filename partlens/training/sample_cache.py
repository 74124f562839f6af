"""Training samples generated (or read and cropped) once and reused in every epoch.

The built-in dataset draws every image procedurally and the real datasets decode and crop a
file per sample; for a small net such as ``tiny`` that costs about as much as the training step
(docs/filter-loss.md, "End to end"). A sample of these datasets depends only on its index, apart
from the random left-right flip of ``augment``, so the un-flipped sample can be kept and the
flip drawn afresh each epoch, exactly as the dataset draws it (one ``torch.rand`` per sample, in
the same order): a cached run trains on the same batches and ends with the same weights.
"""

from __future__ import annotations

import dataclasses
from typing import Any

import torch
from torch.utils.data import Dataset

from partlens.data import Sample, flip_sample

DEFAULT_CACHE_BYTES = 512 * 2**20


class CachedSamples(Dataset):
    """``dataset``'s samples, each generated on first use and kept (images and labels only).

    The training loop reads only a sample's image and label, so part masks are not kept
    (they would be most of the memory). ``augment`` flips as the wrapped dataset would.
    """

    def __init__(self, dataset: Any) -> None:
        self.source = dataset
        self.augment = bool(dataset.augment)
        self._cache: dict[int, Sample] = {}

    def __len__(self) -> int:
        return len(self.source)

    def __getitem__(self, index: int) -> Sample:
        """Sample ``index``, flipped at random by torch's RNG when ``augment`` is on."""
        sample = self._cache.get(index)
        if sample is None:
            sample = self._generate(index)
            self._cache[index] = sample
        if self.augment and bool(torch.rand(()) < 0.5):
            sample = flip_sample(sample)
        return sample

    def _generate(self, index: int) -> Sample:
        # The dataset's own flip must not run here: it would consume the RNG draw that
        # __getitem__ makes for this sample in every epoch.
        augment = self.source.augment
        self.source.augment = False
        try:
            sample = self.source[index]
        finally:
            self.source.augment = augment
        return dataclasses.replace(sample, part_masks=None)


def cache_training_samples(
    dataset: Any, *, num_workers: int, max_bytes: int = DEFAULT_CACHE_BYTES
) -> Any:
    """``dataset`` wrapped in :class:`CachedSamples` when that gives the same samples, else
    ``dataset`` itself.

    Cached: map-style datasets with a boolean ``augment`` attribute (the built-in and the real
    datasets), whose images fit in ``max_bytes`` (estimated from sample 0), loaded in the
    training process (``num_workers == 0``: DataLoader workers are new processes every epoch,
    so a cache filled there would be lost).
    """
    if num_workers != 0 or not isinstance(getattr(dataset, "augment", None), bool):
        return dataset
    if len(dataset) == 0:
        return dataset
    cached = CachedSamples(dataset)
    first = cached._generate(0)
    if first.image.nbytes * len(dataset) > max_bytes:
        return dataset
    cached._cache[0] = first
    return cached
