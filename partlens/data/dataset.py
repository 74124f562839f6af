"""The dataset base class, the dataset registry and `load_dataset`, the one entry point."""

from __future__ import annotations

import copy
import inspect
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import torch

from partlens.data.types import Sample
from partlens.registry import Registry


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


@dataclass(frozen=True)
class DatasetFormat:
    """A registered dataset: its class and whether it reads files under a ``root`` folder."""

    name: str
    dataset_class: type[PartDataset]
    needs_root: bool

    @property
    def options(self) -> list[str]:
        """The keyword-only options of the class (``task``, ``category``, ``augment``, ...)."""
        parameters = inspect.signature(self.dataset_class.__init__).parameters.values()
        return [p.name for p in parameters if p.kind is p.KEYWORD_ONLY]


DATASETS: Registry[DatasetFormat] = Registry("dataset")

D = TypeVar("D", bound=type[PartDataset])


def register_dataset(name: str, *, needs_root: bool = True) -> Callable[[D], D]:
    """A class decorator registering a :class:`PartDataset` as dataset ``name``.

    A class with ``needs_root`` is built as ``cls(root, split, image_size, **options)``, else as
    ``cls(split, image_size, **options)``; options are its keyword-only parameters.
    """

    def decorate(dataset_class: D) -> D:
        DATASETS.add(name, DatasetFormat(name, dataset_class, needs_root))
        return dataset_class

    return decorate


def load_dataset(name: str, split: str, image_size: int, **options: Any) -> PartDataset:
    """Load dataset `name` (see :data:`DATASETS`: "builtin", "cub200", "pascal-part",
    "ilsvrc-part") for `split` ("train" or "test") with images of `image_size` x `image_size`
    pixels.

    Options of "builtin": task="single"|"multi", category="bird", size, positive_fraction=0.5,
    seed=0, augment=False, framing="crop". Real datasets take root=<directory> plus the same
    task / category / augment options (see their modules for the expected layout).
    """
    if split not in SPLITS:
        raise ValueError(f"split must be one of {SPLITS}, got {split!r}")
    if not isinstance(image_size, int) or image_size < 16:
        raise ValueError(f"image_size must be an int >= 16, got {image_size!r}")
    dataset_format = DATASETS.get(name)
    allowed = dataset_format.options
    unknown = set(options) - set(allowed) - {"root"}
    if unknown:
        raise ValueError(
            f"unknown option(s) {sorted(unknown)} for dataset {name!r}; allowed: {sorted(allowed)}"
        )
    if not dataset_format.needs_root:
        return dataset_format.dataset_class(split, image_size, **options)  # type: ignore[call-arg]
    if "root" not in options:
        raise ValueError(f"dataset {name!r} needs root=<directory of the official files>")
    root = Path(options.pop("root"))
    return dataset_format.dataset_class(root, split, image_size, **options)  # type: ignore[call-arg]


def limit_dataset(dataset: PartDataset, size: int, seed: int = 0) -> PartDataset:
    """At most ``size`` objects of a record-backed dataset (a real one): a seeded random subset
    kept in dataset order, as a shallow copy; the dataset itself when it is small enough."""
    records = getattr(dataset, "records", None)
    if records is None:
        raise TypeError(f"{type(dataset).__name__} has no records to limit")
    if len(records) <= size:
        return dataset
    generator = torch.Generator().manual_seed(seed)
    keep = sorted(torch.randperm(len(records), generator=generator)[:size].tolist())
    limited = copy.copy(dataset)
    limited.records = [records[i] for i in keep]  # type: ignore[attr-defined]
    return limited
