"""The dataset base class and `load_dataset`, the one entry point for every dataset."""

from __future__ import annotations

import importlib
import inspect
from pathlib import Path
from typing import Any

import torch

from partlens.data.types import Sample


class DataFormatError(ValueError):
    """Broken or malformed dataset files; the message names the file and line or record."""


class PartDataset(torch.utils.data.Dataset[Sample]):
    """A dataset of `Sample`s with class names (indexed by label), part and landmark names."""

    categories: list[str]
    part_names: list[str]
    landmark_names: list[str]
    image_size: int

    def __len__(self) -> int:
        raise NotImplementedError

    def __getitem__(self, index: int) -> Sample:
        raise NotImplementedError

    def _check_index(self, index: int) -> int:
        if not -len(self) <= index < len(self):
            raise IndexError(f"index {index} out of range for a dataset of {len(self)} samples")
        return index % len(self)


SPLITS = ("train", "test")


def load_dataset(name: str, split: str, image_size: int, **options: Any) -> PartDataset:
    """Load dataset `name` ("builtin", "cub200", "pascal-part" or "ilsvrc-part") for `split`
    ("train" or "test") with images of `image_size` x `image_size` pixels.

    Options of "builtin": task="single"|"multi", category="bird", size, positive_fraction=0.5,
    seed=0, augment=False, framing="crop". Real datasets take root=<directory> plus the same
    task / category / augment options (see their modules for the expected layout).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not isinstance(image_size, int) or image_size < 16:
        raise ValueError(f"image_size must be an int >= 16, got {image_size!r}")
    loaders = {
        "builtin": ("partlens.data.builtin.generator", "BuiltinDataset"),
        "cub200": ("partlens.data.real.cub", "CubDataset"),
        "pascal-part": ("partlens.data.real.pascal_part", "PascalPartDataset"),
        "ilsvrc-part": ("partlens.data.real.ilsvrc_part", "IlsvrcPartDataset"),
    }
    if name not in loaders:
        raise ValueError(f"unknown dataset {name!r}; known: {', '.join(loaders)}")
    module_name, class_name = loaders[name]
    dataset_class = getattr(importlib.import_module(module_name), class_name)
    parameters = inspect.signature(dataset_class.__init__).parameters
    allowed = {p.name for p in parameters.values() if p.kind is p.KEYWORD_ONLY}
    unknown = set(options) - allowed - {"root"}
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for dataset {name!r}; allowed: {sorted(allowed)}"
        )
    if name == "builtin":
        return dataset_class(split, image_size, **options)
    if "root" not in options:
        raise ValueError(f"dataset {name!r} needs root=<directory of the official files>")
    return dataset_class(Path(options.pop("root")), split, image_size, **options)
