"""A Pascal-Part folder in the official layout, written from built-in scenes for tests.

``JPEGImages/<id>.jpg``, ``Annotations_Part/<id>.mat`` (``anno.objects(i).parts(j)`` structs,
as the official release stores them) and ``ImageSets/Main/{train,val}.txt``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import scipy.io
from PIL import Image

from partlens.data import load_dataset

# Built-in part -> an official Pascal-Part part name that merges back into it.
_PASCAL_NAME = {"head": "head", "torso": "torso", "tail": "tail"}
_HOOVED = {"front_legs": "lfuleg", "back_legs": "lbuleg"}
_LEGS = {
    "bird": {"front_legs": "lleg", "back_legs": "rleg"},
    "cat": {"front_legs": "lfleg", "back_legs": "lbleg"},
    "dog": {"front_legs": "lfleg", "back_legs": "lbleg"},
    "cow": _HOOVED,
    "horse": _HOOVED,
    "sheep": _HOOVED,
}


def _struct_array(rows: list[dict], fields: list[str]) -> np.ndarray:
    array = np.zeros((1, len(rows)), dtype=[(f, "O") for f in fields])
    for k, row in enumerate(rows):
        for f in fields:
            array[0, k][f] = row[f]
    return array


def write_annotation(path: Path, objects: list[dict]) -> None:
    """One ``.mat`` file with ``objects`` ({class, mask, parts: [(name, mask)]})."""
    rows = []
    for obj in objects:
        parts = _struct_array(
            [{"part_name": name, "mask": mask} for name, mask in obj["parts"]],
            ["part_name", "mask"],
        )
        rows.append({"class": obj["class"], "class_ind": 8, "mask": obj["mask"], "parts": parts})
    anno = {
        "imname": path.stem,
        "objects": _struct_array(rows, ["class", "class_ind", "mask", "parts"]),
    }
    scipy.io.savemat(str(path), {"anno": anno})


def write_pascal_part_scenes(root: Path, train: int = 24, val: int = 12, size: int = 96) -> Path:
    """A Pascal-Part folder of ``train`` + ``val`` built-in scenes (all six animals)."""
    for folder in ("JPEGImages", "Annotations_Part", "ImageSets/Main"):
        (root / folder).mkdir(parents=True, exist_ok=True)
    lists: dict[str, list[str]] = {"train": [], "val": []}
    for split, count, seed in (("train", train, 1), ("val", val, 2)):
        scenes = load_dataset("builtin", "train", size, task="multi", size=count, seed=seed)
        for index in range(count):
            sample = scenes[index]
            image_id = f"2010_{split}{index:04d}"
            Image.fromarray(sample.image).save(root / "JPEGImages" / f"{image_id}.jpg", quality=95)
            assert sample.part_masks is not None
            names = {**_PASCAL_NAME, **_LEGS[sample.category]}
            parts = [
                (names[part], mask.astype(np.uint8))
                for part, mask in sample.part_masks.items()
                if mask.any()
            ]
            union = np.any([m for _, m in parts], axis=0).astype(np.uint8)
            write_annotation(
                root / "Annotations_Part" / f"{image_id}.mat",
                [{"class": sample.category, "mask": union, "parts": parts}],
            )
            lists[split].append(image_id)
    for split, ids in lists.items():
        (root / "ImageSets/Main" / f"{split}.txt").write_text("\n".join(ids) + "\n")
    return root
