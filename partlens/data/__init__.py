"""Datasets with part annotations: the built-in procedural animals and real-data loaders."""

from partlens.data.builtin.animals import LANDMARK_PARTS
from partlens.data.builtin.generator import BUILTIN_CATEGORIES, BuiltinDataset
from partlens.data.dataset import DataFormatError, PartDataset, load_dataset
from partlens.data.transforms import crop_resize_sample, crop_to_bbox, flip_sample
from partlens.data.types import (
    IMAGE_MEAN,
    IMAGE_STD,
    Batch,
    Sample,
    collate_samples,
    image_to_tensor,
)

__all__ = [
    "BUILTIN_CATEGORIES",
    "IMAGE_MEAN",
    "IMAGE_STD",
    "LANDMARK_PARTS",
    "Batch",
    "BuiltinDataset",
    "DataFormatError",
    "PartDataset",
    "Sample",
    "collate_samples",
    "crop_resize_sample",
    "crop_to_bbox",
    "flip_sample",
    "image_to_tensor",
    "load_dataset",
]
