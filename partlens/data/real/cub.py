"""CUB-200-2011 loader, reading the official release as published.

Expected layout under `root` (the `CUB_200_2011/` folder of the archive)::

    images.txt              <image_id> <relative path under images/>
    classes.txt             <class_id> <class name>
    image_class_labels.txt  <image_id> <class_id>
    train_test_split.txt    <image_id> <1: train, 0: test>
    bounding_boxes.txt      <image_id> <x> <y> <width> <height>
    parts/parts.txt         <part_id> <part name>          (15 names, some with spaces)
    parts/part_locs.txt     <image_id> <part_id> <x> <y> <visible>
    images/<path>

Landmarks: the paper's head, back and tail (head = mean of the visible beak, crown, forehead
and eye points; CUB has no single head point), plus the 15 raw points with spaces replaced by
underscores. CUB has no part masks (part_masks None): location instability only.
"""

from __future__ import annotations

from collections import defaultdict
from pathlib import Path

import numpy as np

from partlens.data.dataset import DataFormatError, register_dataset
from partlens.data.real.records import ObjectRecord, RecordDataset, parse_number, read_table

HEAD_POINTS = ("beak", "crown", "forehead", "left eye", "right eye")


def _by_id(path: Path, kinds: tuple[type, ...], last_is_text: bool = False) -> dict[int, list]:
    """Rows keyed by their leading integer id, the other fields parsed as `kinds`."""
    table = {}
    for line, row in read_table(path, len(kinds) + 1, last_is_text=last_is_text):
        key = parse_number(row[0], path, line, int)
        if key in table:
            raise DataFormatError(f"{path}:{line}: duplicate id {key}")
        table[key] = [
            value if kind is str else parse_number(value, path, line, kind)
            for value, kind in zip(row[1:], kinds, strict=True)
        ]
    return table


@register_dataset("cub200")
class CubDataset(RecordDataset):
    """CUB-200-2011 bounding-box crops; single-category "bird" (all positives) or multi-category
    over the 200 species (labels in classes.txt order)."""

    def __init__(
        self,
        root: Path,
        split: str,
        image_size: int,
        *,
        task: str = "single",
        category: str = "bird",
        augment: bool = False,
    ) -> None:
        root = Path(root)
        images = _by_id(root / "images.txt", (str,))
        classes = _by_id(root / "classes.txt", (str,))
        labels = _by_id(root / "image_class_labels.txt", (int,))
        splits = _by_id(root / "train_test_split.txt", (int,))
        boxes = _by_id(root / "bounding_boxes.txt", (float, float, float, float))
        part_names = {k: v[0] for k, v in _by_id(root / "parts/parts.txt", (str,), True).items()}
        points = self._read_part_locs(root / "parts/part_locs.txt", part_names)

        class_ids = sorted(classes)
        species = [classes[k][0] for k in class_ids]
        records = []
        for image_id, (relative,) in sorted(images.items()):
            tables = {
                "image_class_labels.txt": labels,
                "train_test_split.txt": splits,
                "bounding_boxes.txt": boxes,
            }
            for name, table in tables.items():
                if image_id not in table:
                    raise DataFormatError(f"{root / name}: no record for image id {image_id}")
            if (splits[image_id][0] == 1) != (split == "train"):
                continue
            class_id = labels[image_id][0]
            if class_id not in classes:
                where = root / "image_class_labels.txt"
                raise DataFormatError(f"{where}: image {image_id} has unknown class {class_id}")
            x, y, w, h = boxes[image_id]
            landmarks = points.get(image_id, {})
            records.append(
                ObjectRecord(
                    image_path=root / "images" / relative,
                    category="bird" if task == "single" else classes[class_id][0],
                    bbox=(x, y, x + w, y + h),
                    landmarks=_paper_landmarks(landmarks),
                )
            )
        raw_names = [part_names[k].replace(" ", "_") for k in sorted(part_names)]
        super().__init__(
            records,
            ["bird"] if task == "single" else species,
            image_size,
            split=split,
            task=task,
            category=category if task == "single" else None,
            part_names=[],
            # CUB's own "back" and "tail" points are the paper's: list each name once, or
            # location instability would average those landmarks twice.
            landmark_names=list(dict.fromkeys(["head", "back", "tail", *raw_names])),
            augment=augment,
        )

    @staticmethod
    def _read_part_locs(path: Path, part_names: dict[int, str]) -> dict[int, dict[str, tuple]]:
        points: dict[int, dict[str, tuple[float, float]]] = defaultdict(dict)
        for line, row in read_table(path, 5):
            image_id, part_id = (
                parse_number(row[0], path, line, int),
                parse_number(row[1], path, line, int),
            )
            if part_id not in part_names:
                raise DataFormatError(f"{path}:{line}: unknown part id {part_id}")
            x, y = parse_number(row[2], path, line), parse_number(row[3], path, line)
            if parse_number(row[4], path, line, int) == 1:
                points[image_id][part_names[part_id]] = (x, y)
        return points


def _paper_landmarks(points: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
    """Raw visible points plus the paper's head / back / tail."""
    landmarks = {name.replace(" ", "_"): xy for name, xy in points.items()}
    head = [points[name] for name in HEAD_POINTS if name in points]
    if head:
        x, y = np.mean(head, axis=0).tolist()
        landmarks["head"] = (x, y)
    return landmarks
