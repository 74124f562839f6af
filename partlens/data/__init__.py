"""Datasets with part annotations: the built-in procedural animals and real-data loaders."""

from partlens.data import builtin, real  # noqa: F401 - registers the datasets, built-in first
from partlens.data.builtin.animals import LANDMARK_PARTS
from partlens.data.builtin.generator import BUILTIN_CATEGORIES, BuiltinDataset
from partlens.data.dataset import (
    DATASETS,
    DataFormatError,
    DatasetFormat,
    PartDataset,
    limit_dataset,
    load_dataset,
    register_dataset,
)
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
    "DATASETS",
    "IMAGE_MEAN",
    "IMAGE_STD",
    "LANDMARK_PARTS",
    "Batch",
    "BuiltinDataset",
    "DataFormatError",
    "DatasetFormat",
    "PartDataset",
    "Sample",
    "collate_samples",
    "crop_resize_sample",
    "crop_to_bbox",
    "flip_sample",
    "image_to_tensor",
    "limit_dataset",
    "load_dataset",
    "register_dataset",
]
