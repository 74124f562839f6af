"""Shared machinery of the real-data loaders: records on disk -> bounding-box crop `Sample`s."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from partlens.data.dataset import DataFormatError, PartDataset
from partlens.data.transforms import crop_to_bbox, flip_sample
from partlens.data.types import Sample


@dataclass
class ObjectRecord:
    """One annotated object of a real image (full-image pixel coordinates)."""

    image_path: Path
    category: str
    bbox: tuple[float, float, float, float]
    landmarks: dict[str, tuple[float, float]] = field(default_factory=dict)
    # Loads {part name: bool mask of the full image}; None where the dataset has no masks.
    load_masks: Callable[[tuple[int, int]], dict[str, np.ndarray]] | None = None


def read_image(path: Path) -> np.ndarray:
    """Read an RGB uint8 image, naming the file when it is missing or unreadable."""
    if not path.is_file():
        raise FileNotFoundError(f"image file not found: {path}")
    try:
        with Image.open(path) as image:
            return np.asarray(image.convert("RGB"))
    except OSError as error:
        raise DataFormatError(f"{path}: cannot read image ({error})") from error


def read_table(
    path: Path, columns: int, *, last_is_text: bool = False
) -> list[tuple[int, list[str]]]:
    """Read a whitespace-separated text file with `columns` fields per non-empty line, as
    (line number, fields); with `last_is_text` the last field takes the rest of the line."""
    if not path.is_file():
        raise FileNotFoundError(f"annotation file not found: {path}")
    rows = []
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if not line.strip():
            continue
        fields = line.split(maxsplit=columns - 1) if last_is_text else line.split()
        if len(fields) != columns:
            raise DataFormatError(
                f"{path}:{number}: expected {columns} fields, got {len(fields)}: {line!r}"
            )
        rows.append((number, fields))
    return rows


def parse_number(text: str, path: Path, line: int, kind: type = float):
    """Parse an int or float field, naming file and line when it is malformed."""
    try:
        return kind(text)
    except ValueError as error:
        raise DataFormatError(f"{path}:{line}: {text!r} is not a valid {kind.__name__}") from error


class RecordDataset(PartDataset):
    """Bounding-box crops (object fills the `image_size` square, as in the paper) of records.

    task "single": categories == ["negative", category], label 1 for the category's objects;
    task "multi": label = index into `categories`.
    """

    def __init__(
        self,
        records: list[ObjectRecord],
        all_categories: list[str],
        image_size: int,
        *,
        split: str,
        task: str,
        category: str | None,
        part_names: list[str],
        landmark_names: list[str],
        augment: bool = False,
    ) -> None:
        if task not in ("single", "multi"):
            raise ValueError(f"task must be 'single' or 'multi', got {task!r}")
        if task == "single":
            if category not in all_categories:
                raise ValueError(f"unknown category {category!r}; known: {all_categories}")
            self.categories = ["negative", category]
        else:
            self.categories = list(all_categories)
        self.records, self.task, self.image_size = records, task, image_size
        self.part_names, self.landmark_names = part_names, landmark_names
        self.augment = augment and split == "train"

    def __len__(self) -> int:
        return len(self.records)

    def __getitem__(self, index: int) -> Sample:
        """Read record `index` and crop it to its bbox at `image_size`."""
        index = self._check_index(index)
        record = self.records[index]
        image = read_image(record.image_path)
        masks = None
        if record.load_masks is not None:
            masks = record.load_masks(image.shape[:2])
            masks = {
                name: masks.get(name, np.zeros(image.shape[:2], bool)) for name in self.part_names
            }
        if self.task == "single":
            label = int(record.category == self.categories[1])
        else:
            label = self.categories.index(record.category)
        sample = Sample(
            image, label, record.category, record.bbox, masks, dict(record.landmarks), index
        )
        sample = crop_to_bbox(sample, self.image_size)
        if self.augment and bool(torch.rand(()) < 0.5):
            sample = flip_sample(sample)
        return sample
