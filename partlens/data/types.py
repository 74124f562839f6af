"""Record types shared by every dataset: `Sample`, `Batch`, and the tensor conversion."""

from __future__ import annotations

from dataclasses import dataclass, replace

import numpy as np
import torch
from torch import Tensor

# ImageNet statistics: the paper fine-tunes ImageNet-pretrained nets, so inputs use their scale.
IMAGE_MEAN: tuple[float, float, float] = (0.485, 0.456, 0.406)
IMAGE_STD: tuple[float, float, float] = (0.229, 0.224, 0.225)


@dataclass
class Sample:
    """One annotated image.

    `bbox` is (x0, y0, x1, y1) in pixels of `image`; `part_masks` maps a part name to a bool
    [H, W] mask (None when the dataset has no masks); `landmarks` maps a name to (x, y) in
    continuous pixel coordinates (pixel (i, j) covers [j, j+1) x [i, i+1)) and omits landmarks
    that are not visible.
    """

    image: np.ndarray
    label: int
    category: str
    bbox: tuple[float, float, float, float] | None
    part_masks: dict[str, np.ndarray] | None
    landmarks: dict[str, tuple[float, float]]
    index: int = -1


@dataclass
class Batch:
    """A collated mini-batch: normalised images, int64 labels, and the samples themselves."""

    images: Tensor
    labels: Tensor
    samples: list[Sample]

    def pin_memory(self) -> Batch:
        """The batch with its tensors in page-locked memory (what a ``DataLoader`` with
        ``pin_memory=True`` calls), so that ``.to(device, non_blocking=True)`` overlaps the copy
        with the step; the samples are kept as they are."""
        return replace(self, images=self.images.pin_memory(), labels=self.labels.pin_memory())


def image_to_tensor(image: np.ndarray) -> Tensor:
    """Convert a uint8 [H, W, 3] image to a float32 [3, H, W] tensor normalised by
    IMAGE_MEAN / IMAGE_STD."""
    if not isinstance(image, np.ndarray) or image.dtype != np.uint8:
        raise ValueError(f"image must be a uint8 numpy array, got {type(image).__name__}")
    if image.ndim != 3 or image.shape[2] != 3:
        raise ValueError(f"image must have shape [H, W, 3], got {list(image.shape)}")
    # torch.from_numpy needs a writable array; PIL-backed arrays are read-only.
    array = np.ascontiguousarray(image) if image.flags.writeable else image.copy()
    tensor = torch.from_numpy(array).permute(2, 0, 1).float().div_(255.0)
    mean = torch.tensor(IMAGE_MEAN, dtype=torch.float32).view(3, 1, 1)
    std = torch.tensor(IMAGE_STD, dtype=torch.float32).view(3, 1, 1)
    return tensor.sub_(mean).div_(std)


def collate_samples(samples: list[Sample]) -> Batch:
    """Stack samples into a `Batch`, keeping every sample's annotations (use as a DataLoader
    `collate_fn`)."""
    if not samples:
        raise ValueError("collate_samples needs at least one sample")
    shapes = {sample.image.shape for sample in samples}
    if len(shapes) != 1:
        raise ValueError(f"all images of a batch must have the same shape, got {sorted(shapes)}")
    images = torch.stack([image_to_tensor(sample.image) for sample in samples])
    labels = torch.tensor([sample.label for sample in samples], dtype=torch.int64)
    return Batch(images=images, labels=labels, samples=list(samples))
